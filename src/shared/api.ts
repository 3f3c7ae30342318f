/**
 * The one API contract between the workstation's UI and its engine. Both transports (Electron IPC
 * and, later, HTTP for `winnow serve`) implement exactly this interface.
 */
export interface ClassStatus {
  readonly id: number;
  readonly name: string;
  readonly real: { readonly train: number; readonly val: number; readonly test: number };
  readonly synthetic: {
    readonly pending: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly overridden: number;
  };
}

export interface ProjectStatus {
  readonly dir: string;
  readonly name: string;
  readonly schemaVersion: number;
  readonly classes: readonly ClassStatus[];
  readonly runs: number;
  readonly exports: number;
}

export interface WinnowApi {
  /** The current project's summary. */
  projectStatus(): Promise<ProjectStatus>;
}

/** Every IPC channel, named once. */
export const channels = {
  projectStatus: 'winnow:project-status',
} as const satisfies Record<keyof WinnowApi, string>;
