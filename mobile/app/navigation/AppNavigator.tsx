import { DarkTheme, DefaultTheme, NavigationContainer } from '@react-navigation/native';
import { createNativeStackNavigator } from '@react-navigation/native-stack';

import { strings } from '../i18n';
import { ChatScreen } from '../screens/ChatScreen';
import { LoginScreen } from '../screens/LoginScreen';
import { useAppTheme } from '../theme';
import type { RootStackParamList } from './types';

const Stack = createNativeStackNavigator<RootStackParamList>();

/** The two screens; each draws its own header in the product's colours. */
export function AppStack() {
  return (
    <Stack.Navigator initialRouteName="Login" screenOptions={{ headerShown: false }}>
      <Stack.Screen name="Login" component={LoginScreen} />
      <Stack.Screen name="Chat" component={ChatScreen} />
    </Stack.Navigator>
  );
}

export function AppNavigator() {
  const { dark, colors } = useAppTheme();
  const base = dark ? DarkTheme : DefaultTheme;
  const theme = {
    ...base,
    colors: { ...base.colors, primary: colors.accent, background: colors.background, card: colors.header },
  };
  return (
    <NavigationContainer
      theme={theme}
      documentTitle={{
        formatter: (_options, route) =>
          route?.name === 'Chat' && route.params && 'room' in route.params
            ? `#${(route.params as RootStackParamList['Chat']).room} · ${strings().appName}`
            : strings().appName,
      }}
    >
      <AppStack />
    </NavigationContainer>
  );
}
