/**
 * The rule and response-plan schemas, with their defaults, as JSON Schema: the console builds its editors for an
 * elder's `rules` (a partial override) and `responsePlan` from them, so a field added in alarms/ shows up there
 * without a dashboard change, and PATCH /api/elders/:id checks against the very same schemas.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { DEFAULT_ESCALATION_PLAN, DEFAULT_RULES, EscalationPlanSchema, RuleSetSchema } from '../../alarms/index.js';
import { requireRole } from './auth.js';

const open = { additionalProperties: true } as const;
const SchemaAndDefaults = (what: string) =>
  Type.Object({ schema: Type.Object({}, { ...open, description: `JSON Schema of ${what}` }), defaults: Type.Object({}, { ...open, description: `the centre's default ${what}` }) }, open);
const RulesSchemaAnswer = Type.Object({ rules: SchemaAndDefaults('the rule set'), plan: SchemaAndDefaults('the escalation (response) plan') }, open);

// TypeBox schemas are plain JSON Schema objects (their markers are symbol keys, which JSON leaves out); built once.
const ANSWER = JSON.parse(
  JSON.stringify({ rules: { schema: RuleSetSchema, defaults: DEFAULT_RULES }, plan: { schema: EscalationPlanSchema, defaults: DEFAULT_ESCALATION_PLAN } }),
) as Record<string, unknown>;

export async function ruleRoutes(app: FastifyInstance, o: { db: Db }) {
  app.get(
    '/api/rules/schema',
    { schema: { tags: ['elders'], summary: 'The schemas and defaults of the rules and response plans an elder’s file may override', response: { 200: RulesSchemaAnswer } }, onRequest: requireRole(o.db, 'installer', 'supervisor', 'admin') },
    async () => ANSWER,
  );
}
