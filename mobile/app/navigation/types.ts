import type { NativeStackScreenProps } from '@react-navigation/native-stack';

export type RootStackParamList = {
  Login: undefined;
  /** `launchRoom`: the room of the notification whose tap started the app, shown as a tap. */
  Chat: { username: string; room: string; serverUrl: string; launchRoom?: string };
};

export type LoginScreenProps = NativeStackScreenProps<RootStackParamList, 'Login'>;
export type ChatScreenProps = NativeStackScreenProps<RootStackParamList, 'Chat'>;
