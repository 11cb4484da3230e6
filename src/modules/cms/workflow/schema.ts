import type { Generated } from 'kysely';

/** How a level of a route decides: one of its approvers is enough, or every one of them. */
export type ApprovalRule = 'any' | 'all';

/**
 * Where an approval request stands. Only 'pending' and 'scheduled' are open (one per page):
 * - pending: waiting for the approvers of `current_level`;
 * - scheduled: every level approved, the page goes public at `publish_at` (PageService.schedule);
 * - published, sent_back, withdrawn: closed by approval, 差し戻し or 取り下げ;
 * - void: the page changed after the request (a new draft, the trash), so it must be asked again.
 */
export type WorkflowStatus = 'pending' | 'scheduled' | 'published' | 'sent_back' | 'withdrawn' | 'void';

/** 承認ルート: who approves pages of a folder's subtree and/or an organisation, level by level. */
export interface CmsWorkflowRouteTable {
  id: Generated<number>;
  site_id: number;
  name: string;
  /** The folder whose subtree it covers; null: the whole site. */
  folder_id: number | null;
  /** The organisation (and those below it) whose pages it covers; null: any. */
  organization_id: number | null;
  /** `folderId:organizationId` ('' for none): one route per scope, which a unique index on nullable columns would not give. */
  scope_key: string;
  /** JSON [{ rule: 'any' | 'all', approverIds: number[] }], level 1 first, at most 5. */
  levels: string;
  created_by: number | null;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
}

/** 承認依頼: one exact version of a page on its way through a snapshot of its route. */
export interface CmsWorkflowRequestTable {
  id: Generated<number>;
  node_id: number;
  site_id: number;
  /** The draft version asked for; approval publishes exactly this one or nothing. */
  version_id: number;
  version_number: number;
  /** The route at the time (it may change or go later; the request keeps its own copy). */
  route_id: number | null;
  route_name: string;
  /** JSON [{ rule }] per level, level 1 first; the approvers are the steps. */
  levels: string;
  current_level: number;
  status: WorkflowStatus;
  requester_id: number;
  requester_name: string;
  comment: string | null;
  /** Desired publication time; null publishes at once on the last approval. */
  publish_at: string | null;
  /** Accessibility errors of the version when asked. */
  a11y_errors: number;
  /** Why the requester asked despite those errors (cms.a11y_override). */
  a11y_override_reason: string | null;
  /** Send-back reason, or why the request became void. */
  closed_reason: string | null;
  closed_by: number | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

/** One approver's place in a request: a row per approver per level, decided or not. */
export interface CmsWorkflowStepTable {
  id: Generated<number>;
  request_id: number;
  level: number;
  approver_id: number;
  /** Name at the time, so the history reads right after a rename or deletion. */
  approver_name: string;
  decision: 'approved' | 'sent_back' | null;
  comment: string | null;
  /** Why this approver approved despite accessibility errors (cms.a11y_override). */
  a11y_override_reason: string | null;
  decided_at: string | null;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_workflow_routes: CmsWorkflowRouteTable;
    cms_workflow_requests: CmsWorkflowRequestTable;
    cms_workflow_steps: CmsWorkflowStepTable;
  }
}
