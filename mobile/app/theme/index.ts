import { useColorScheme } from 'react-native';

import { darkColors, lightColors, type ThemeColors } from './colors';

export { palette, lightColors, darkColors } from './colors';
export type { ThemeColors } from './colors';

export const spacing = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24, xxl: 32 } as const;
export const radius = { sm: 6, md: 12, lg: 18, round: 999 } as const;

export interface AppTheme {
  dark: boolean;
  colors: ThemeColors;
}

/** Light or dark colours following the device setting. */
export function useAppTheme(): AppTheme {
  const dark = useColorScheme() === 'dark';
  return { dark, colors: dark ? darkColors : lightColors };
}
