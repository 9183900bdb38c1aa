import type { MenuAction } from '../main/api/contract.ts';
import type { MenuItemOptions } from './electron-api.ts';

/**
 * The native menu as data. Items that act on the project send a `menu` event to the window;
 * the renderer opens the matching dialog, so the menu and the toolbar share one code path.
 */
export function menuTemplate(send: (action: MenuAction) => void, opts: { isMac: boolean; devTools: boolean; about: () => void }): MenuItemOptions[] {
  const item = (label: string, action: MenuAction, accelerator?: string): MenuItemOptions => ({ label, accelerator, click: () => send(action) });
  return [
    ...(opts.isMac ? [{ role: 'appMenu' }] : []),
    {
      label: 'File',
      submenu: [
        item('New Project', 'new-project', 'CmdOrCtrl+N'),
        item('Open Project…', 'open-project', 'CmdOrCtrl+O'),
        item('Save Project', 'save-project', 'CmdOrCtrl+S'),
        item('Save Project As…', 'save-project-as', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        item('Import Layer…', 'import-layer', 'CmdOrCtrl+I'),
        item('Export Map…', 'export-map', 'CmdOrCtrl+E'),
        { type: 'separator' },
        { role: opts.isMac ? 'close' : 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        item('Undo', 'undo', 'CmdOrCtrl+Z'),
        item('Redo', 'redo', 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }, ...(opts.devTools ? [{ role: 'toggleDevTools' }] : [])],
    },
    { label: 'Help', submenu: [{ label: 'About GeoAnomaly Workbench', click: opts.about }] },
  ];
}
