import type { NativeStackScreenProps } from '@react-navigation/native-stack';

export type RootStackParamList = {
  Login: undefined;
  Chat: { username: string; room: string; serverUrl: string };
};

export type LoginScreenProps = NativeStackScreenProps<RootStackParamList, 'Login'>;
export type ChatScreenProps = NativeStackScreenProps<RootStackParamList, 'Chat'>;
