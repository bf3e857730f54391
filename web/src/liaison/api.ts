/** The node's routes for working groups, action items and the liaison workspace. */
import { call } from '../api';
import type { Schema } from '../types';

export type WorkingGroup = Schema<'WorkingGroupOut'>;
export type Meeting = Schema<'MeetingOut'>;
export type ActionItem = Schema<'ActionItemOut'>;
export type ItemStatus = ActionItem['status'];
export type LiaisonEntry = Schema<'LiaisonEntryOut'>;
export type Term = Schema<'TermOut'>;
export type Today = Schema<'TodayOut'>;
export type TodayItem = Schema<'TodayItem'>;
export type Bilingual = Schema<'Text'>;
export type Office = Schema<'Office'>;
export type ReassignBody = Schema<'ReassignIn'>;
export type ActionItemBody = Schema<'ActionItemIn'>;

const enc = encodeURIComponent;

export const liaisonApi = {
  groups: () => call<WorkingGroup[]>('GET', '/api/v1/working-groups'),
  meetings: () => call<Meeting[]>('GET', '/api/v1/meetings'),
  items: () => call<ActionItem[]>('GET', '/api/v1/action-items'),
  item: (id: string) => call<ActionItem>('GET', `/api/v1/action-items/${enc(id)}`),
  transition: (id: string, to: string, reason = '', note = '') =>
    call<ActionItem>('POST', `/api/v1/action-items/${enc(id)}/transition`, { to, reason, note }),
  concur: (id: string, concur: boolean, note = '') =>
    call<ActionItem>('POST', `/api/v1/action-items/${enc(id)}/concurrence`, { concur, note }),
  comment: (id: string, text: Bilingual) => call<ActionItem>('POST', `/api/v1/action-items/${enc(id)}/comments`, { text }),
  createItem: (body: ActionItemBody) => call<ActionItem>('POST', '/api/v1/action-items', body),
  reassign: (body: ReassignBody) => call<{ items: ActionItem[] }>('POST', '/api/v1/action-items/reassign', body),
  today: () => call<Today>('GET', '/api/v1/liaison/today'),
  entries: () => call<LiaisonEntry[]>('GET', '/api/v1/liaison/entries'),
  createEntry: (body: { text: Bilingual; original_language: 'en' | 'ja'; label: string }) =>
    call<LiaisonEntry>('POST', '/api/v1/liaison/entries', body),
  terms: (q: string) => call<Term[]>('GET', `/api/v1/liaison/terms?q=${enc(q)}`),
};
