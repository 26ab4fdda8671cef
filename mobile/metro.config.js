// Metro's defaults for Expo, plus the client core (client/, linked as @talkrooms/client
// through file:../client): Metro only bundles files below its watch folders, and the
// helpers Babel adds to the core's files resolve from the app's node_modules.
const path = require('path');
const { getDefaultConfig } = require('expo/metro-config');

const config = getDefaultConfig(__dirname);
config.watchFolders = [...(config.watchFolders ?? []), path.resolve(__dirname, '../client')];

config.resolver.nodeModulesPaths = [path.resolve(__dirname, 'node_modules')];

module.exports = config;
