import { createRouter, createWebHashHistory } from 'vue-router';
import AuditView from './views/audit/AuditView.vue';
import ClassesView from './views/classes/ClassesView.vue';
import ExportView from './views/export/ExportView.vue';
import IssuesView from './views/issues/IssuesView.vue';
import MapView from './views/map/MapView.vue';
import ModelsView from './views/models/ModelsView.vue';
import ProjectView from './views/project/ProjectView.vue';
import ReviewView from './views/review/ReviewView.vue';
import RunView from './views/run/RunView.vue';

// Hash history: the same URLs work from a file in Electron and from `winnow serve`.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'project', component: ProjectView },
    { path: '/review/:classId?', name: 'review', component: ReviewView, props: true },
    { path: '/classes', name: 'classes', component: ClassesView },
    { path: '/models', name: 'models', component: ModelsView },
    { path: '/run', name: 'run', component: RunView },
    { path: '/audit', name: 'audit', component: AuditView },
    { path: '/export', name: 'export', component: ExportView },
    { path: '/issues', name: 'issues', component: IssuesView },
    { path: '/map', name: 'map', component: MapView },
  ],
});
