// Winnow's pages need no web permission (camera, notifications, USB, HID, serial, …), so the
// window's session grants none (Electron's security checklist, item 5). Electron grants every
// request and answers every check with "yes" unless handlers say otherwise, so all three are set:
// requests (a page asking), checks (a page or Chromium asking whether it already has one) and
// devices (WebUSB/WebHID/WebSerial access that was granted before).

/** The parts of an Electron session that grant permissions; structural, so this module needs no electron. */
export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
}

/** Makes `session` refuse every permission request, permission check and device permission. */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
