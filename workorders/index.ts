/** Public API of workorders/: the work-order (工单) lifecycle, duty rotas and dispatch suggestions. Pure; gateway/ persists and acts. */
export * from './lifecycle.ts';
export { localDay, dayBefore, covers, onDutyStaff, rotaProblem, shiftMinute, type RotaEntry, type LocalDay } from './rota.ts';
export { DEFAULT_SLA, SLA_CHECKS, SLA_LABELS, resolveSla, slaDeadlines, slaMissed, type SlaCheck, type SlaDeadline, type SlaTarget, type SlaTargets } from './sla.ts';
export { suggestResponders, type Suggestions, type SuggestInput, type StationSuggestion, type StaffSuggestion, type SuggestElder, type SuggestStaff, type SuggestStation } from './suggest.ts';
