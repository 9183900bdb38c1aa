// electron-builder afterPack hook (build/electron-builder.yml: afterPack): flips the Electron
// fuses of the packaged binary before it is signed and wrapped into installers (issue 19).
// Fuses are bits compiled into the Electron executable; @electron/fuses (pinned 1.8.0) rewrites
// them. CommonJS because electron-builder require()s hooks.
/* global require, module */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- electron-builder loads hooks with require() */
const path = require('node:path');
const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Every V1 fuse decided explicitly (strictlyRequireAllFuses fails the build when an Electron
 * upgrade adds a fuse nobody has decided on).
 */
function fuseConfig(resetAdHocDarwinSignature = false) {
  return {
    version: FuseVersion.V1,
    strictlyRequireAllFuses: true,
    resetAdHocDarwinSignature,
    // ELECTRON_RUN_AS_NODE would turn the signed app into a plain Node.js runtime for any script.
    // The backend runs as utilityProcess.fork, which does not need it.
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    // NODE_OPTIONS (--require, --inspect …) from the environment could inject code; unused.
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    // --inspect / --inspect-brk on the command line would open a debugger port to the main process.
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    // app.asar is checked against the hash electron-builder embeds (macOS and Windows only).
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    // Only app.asar is loaded as the app: a loose resources/app/ folder dropped next to it is ignored.
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
    // The renderer is served from app:// (electron/app-protocol.ts); file:// needs no extra privileges.
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  };
}

/** The Electron executable inside electron-builder's appOutDir for a platform. */
function electronBinaryPath(platform, appOutDir, productFilename, executableName) {
  if (platform === 'darwin' || platform === 'mas') return path.join(appOutDir, `${productFilename}.app`);
  if (platform === 'win32') return path.join(appOutDir, `${productFilename}.exe`);
  return path.join(appOutDir, executableName);
}

/** electron-builder's Arch.arm64 is 3 (builder-util's Arch enum: ia32 0, x64 1, armv7l 2, arm64 3, universal 4). */
const ARCH_ARM64 = 3;

async function afterPack(context) {
  const platform = context.electronPlatformName;
  const info = context.packager.appInfo;
  const binary = electronBinaryPath(platform, context.appOutDir, info.productFilename, context.packager.executableName ?? info.productFilename);
  // Flipping fuses breaks an Apple Silicon binary's ad-hoc signature; re-sign it ad hoc (the real signing follows).
  await flipFuses(binary, fuseConfig(platform === 'darwin' && context.arch === ARCH_ARM64));
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.fuseConfig = fuseConfig;
module.exports.electronBinaryPath = electronBinaryPath;
