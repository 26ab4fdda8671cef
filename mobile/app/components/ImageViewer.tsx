import { ActivityIndicator, Image, Modal, Pressable, StyleSheet, Text, View } from 'react-native';
import { useSafeAreaInsets } from 'react-native-safe-area-context';
import type { FileEntry } from '@talkrooms/client';

import { format, strings } from '../i18n';
import { useImageSource, useLoadRetry, type FileAccess } from '../services/files/fileSource';
import { spacing } from '../theme';

interface ImageViewerProps {
  entry: FileEntry;
  access: FileAccess;
  onClose: () => void;
}

/** A shared picture full screen (its `display` copy, at most 1600 px), with a close button. */
export function ImageViewer({ entry, access, onClose }: ImageViewerProps) {
  const t = strings().files;
  const insets = useSafeAreaInsets();
  const source = useImageSource(access, entry, 'display');
  const { attempt, onError } = useLoadRetry();
  return (
    <Modal visible animationType="fade" onRequestClose={onClose} supportedOrientations={['portrait', 'landscape']}>
      <View testID="image-viewer" aria-modal accessibilityLabel={t.viewer} style={styles.screen}>
        {source ? (
          <Image
            key={attempt}
            onError={onError}
            testID="image-viewer-image"
            source={source}
            style={styles.image}
            resizeMode="contain"
            accessibilityLabel={format(t.image, { name: entry.name })}
          />
        ) : (
          <ActivityIndicator color="#FFFFFF" />
        )}
        <Text numberOfLines={1} style={[styles.name, { bottom: insets.bottom + spacing.lg }]}>
          {entry.name}
        </Text>
        <Pressable
          testID="image-viewer-close"
          accessibilityRole="button"
          accessibilityLabel={t.close}
          onPress={onClose}
          hitSlop={12}
          style={[styles.close, { top: insets.top + spacing.md }]}
        >
          <Text style={styles.closeText}>×</Text>
        </Pressable>
      </View>
    </Modal>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, backgroundColor: '#000000', alignItems: 'center', justifyContent: 'center' },
  image: { width: '100%', height: '100%' },
  name: { position: 'absolute', left: spacing.lg, right: spacing.lg, color: '#FFFFFF', textAlign: 'center', fontSize: 14 },
  close: {
    position: 'absolute',
    right: spacing.lg,
    width: 44,
    height: 44,
    borderRadius: 22,
    backgroundColor: 'rgba(0,0,0,0.55)',
    alignItems: 'center',
    justifyContent: 'center',
  },
  closeText: { color: '#FFFFFF', fontSize: 28, lineHeight: 30 },
});
