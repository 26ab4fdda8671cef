/** The seed's palette: dark header #2C3E50, accent #4ECDC4, light background #ECF0F1. */
export const palette = {
  midnight: '#2C3E50',
  midnightDeep: '#1B2631',
  turquoise: '#4ECDC4',
  turquoiseDark: '#3BAFA7',
  cloud: '#ECF0F1',
  white: '#FFFFFF',
  asbestos: '#7F8C8D',
  silver: '#BDC3C7',
  alizarin: '#E74C3C',
  sunflower: '#F1C40F',
  emerald: '#2ECC71',
  ink: '#0E1A24',
  slate: '#17232E',
  slateLight: '#22313F',
} as const;

export interface ThemeColors {
  header: string;
  headerText: string;
  headerMuted: string;
  background: string;
  surface: string;
  text: string;
  textMuted: string;
  border: string;
  accent: string;
  accentText: string;
  ownBubble: string;
  ownText: string;
  otherBubble: string;
  otherText: string;
  inputBackground: string;
  error: string;
  errorBackground: string;
  online: string;
  warning: string;
  offline: string;
  /** An `@name` of a message, and the edge of a message that mentions us. */
  mention: string;
  /** The original of a reply, for a moment after a tap on its quote. */
  highlight: string;
}

export const lightColors: ThemeColors = {
  header: palette.midnight,
  headerText: palette.white,
  headerMuted: palette.silver,
  background: palette.cloud,
  surface: palette.white,
  text: palette.midnight,
  textMuted: palette.asbestos,
  border: '#D5DBDB',
  accent: palette.turquoise,
  accentText: palette.midnight,
  ownBubble: palette.turquoise,
  ownText: palette.midnight,
  otherBubble: palette.white,
  otherText: palette.midnight,
  inputBackground: palette.white,
  error: '#C0392B',
  errorBackground: '#FDEDEC',
  online: palette.emerald,
  warning: palette.sunflower,
  offline: palette.alizarin,
  mention: '#D35400',
  highlight: 'rgba(241, 196, 15, 0.25)',
};

export const darkColors: ThemeColors = {
  header: palette.midnightDeep,
  headerText: palette.cloud,
  headerMuted: palette.asbestos,
  background: palette.ink,
  surface: palette.slate,
  text: palette.cloud,
  textMuted: '#95A5A6',
  border: palette.slateLight,
  accent: palette.turquoise,
  accentText: palette.ink,
  ownBubble: palette.turquoiseDark,
  ownText: palette.ink,
  otherBubble: palette.slateLight,
  otherText: palette.cloud,
  inputBackground: palette.slate,
  error: '#FF7B6E',
  errorBackground: '#3B1F1D',
  online: palette.emerald,
  warning: palette.sunflower,
  offline: palette.alizarin,
  mention: '#F5B041',
  highlight: 'rgba(241, 196, 15, 0.18)',
};
