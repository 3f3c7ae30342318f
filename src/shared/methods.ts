/**
 * Every method of the API, named once. The preload script and the HTTP client build their
 * objects from this list, so neither can drift from the contract in api.ts.
 */
export const METHODS = [
  'projectStatus',
  'projectList',
  'projectOpen',
  'projectCreate',
  'classExtremes',
  'classPage',
  'instanceDetail',
  'similar',
  'nearestReal',
  'curate',
  'undo',
  'tagAdd',
  'tagRemove',
  'tagList',
  'noteSet',
  'viewList',
  'viewSave',
  'viewDelete',
  'viewInstances',
  'classUndo',
  'classRedo',
  'auditSample',
  'auditVerdict',
  'auditUndo',
  'auditSummary',
  'exportDataset',
  'listClasses',
  'updateClass',
  'promptSuggestions',
  'runStart',
  'runStop',
  'runState',
  'runMetrics',
  'runDetail',
  'modelList',
  'modelAdd',
  'modelRemove',
  'queueSetting',
  'queueChoose',
  'labelIssues',
  'labelIssueInstances',
  'applySuggestedLabels',
  'classAdd',
  'classRename',
  'importStart',
  'importState',
  'mapPoints',
  'remedyProposal',
  'remedyApply',
  'remedyState',
] as const;
export type Method = (typeof METHODS)[number];

/** The IPC channel of a method. */
export function channel(method: Method): `winnow:${Method}` {
  return `winnow:${method}`;
}

/** The IPC channel engine events arrive on. */
export const EVENT_CHANNEL = 'winnow:event';
