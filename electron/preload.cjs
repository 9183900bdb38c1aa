// Preload of the workbench window (sandboxed, so CommonJS and only the 'electron' module).
// Exposes exactly one object, window.workbench = { request, on }, implementing the
// WorkbenchApi of main/api/contract.ts. Nothing else of Node or Electron reaches the page:
// ipcRenderer itself is never exposed, only these two closures over fixed channel prefixes.
/* global require */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload must be CommonJS
const { contextBridge, ipcRenderer } = require('electron');

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

contextBridge.exposeInMainWorld('workbench', {
  /** request(name, params) → Promise<result>; rejects with an Error whose message is the JSON {name, message, details}. */
  async request(name, params) {
    if (typeof name !== 'string' || !NAME.test(name)) throw new Error(JSON.stringify({ name: 'InvalidOptionError', message: `bad request name ${String(name)}`, details: {} }));
    const r = await ipcRenderer.invoke(`workbench:req:${name}`, params);
    if (r && r.ok === true) return r.result;
    throw new Error(JSON.stringify(r && r.error ? r.error : { name: 'Error', message: 'no answer from the backend', details: {} }));
  },
  /** on(event, listener) → unsubscribe function. */
  on(name, listener) {
    if (typeof name !== 'string' || !NAME.test(name) || typeof listener !== 'function') return () => undefined;
    const channel = `workbench:evt:${name}`;
    const wrapped = (_event, payload) => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => ipcRenderer.removeListener(channel, wrapped);
  },
});
