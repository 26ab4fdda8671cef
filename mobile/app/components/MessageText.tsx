import { mentionParts } from '@talkrooms/client';
import { Text, type StyleProp, type TextStyle } from 'react-native';

interface MessageTextProps {
  text: string;
  /** The message's `mentions` (protocol 2): only those `@name`s are highlighted. */
  mentions?: readonly string[];
  style: StyleProp<TextStyle>;
  mentionStyle: StyleProp<TextStyle>;
}

/**
 * A message's text, as text (no markup is ever interpreted), with the `@name`s the server
 * listed in `mentions` set apart; an `@name` nobody by that name heard stays plain.
 */
export function MessageText({ text, mentions, style, mentionStyle }: MessageTextProps) {
  if (!mentions?.length) return <Text style={style}>{text}</Text>;
  return (
    <Text style={style}>
      {mentionParts(text, mentions).map((part, index) =>
        part.mention ? (
          <Text key={index} testID={`mention-${part.mention}`} style={mentionStyle}>
            {part.text}
          </Text>
        ) : (
          part.text
        ),
      )}
    </Text>
  );
}
