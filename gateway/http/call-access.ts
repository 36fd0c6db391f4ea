/**
 * What the call-centre routes share (issue 19): reaching the telephony handle, who may act on a call, and the
 * answer to a ControlError. Kept apart so call-controls.ts, supervisor.ts and recordings.ts say the same thing.
 */
import { Type } from '@fastify/type-provider-typebox';
import { ControlError } from '../../telephony/controls/index.js';
import { AriError, type Telephony } from '../../telephony/index.js';
import type { TelephonyHandle } from '../telephony-service.js';
import type { Db } from '../store/db.js';
import { callSummary, type CallSummary } from '../store/call-log.js';
import type { User } from '../store/users.js';
import { ApiError } from './errors.js';

export type TelephonyGetter = () => TelephonyHandle | undefined;

/** The live telephony, or 503 (switched off, or Asterisk unreachable). */
export function telephonyOf(get: TelephonyGetter, needUp = true): Telephony {
  const t = get();
  if (!t) throw new ApiError(503, 'telephony_off', '电话功能已关闭 / telephony is switched off (TELEPHONY=off)');
  if (needUp && t.telephony.health().state !== 'up') throw new ApiError(503, 'telephony_down', '无法连接电话系统，请稍后再试 / Asterisk is unreachable; try again shortly');
  return t.telephony;
}

export const isLead = (u: User) => u.role === 'supervisor' || u.role === 'admin';

/**
 * The call, if the user may act on it: an agent on one of its legs, or a supervisor/admin. Unknown → 404 (so a
 * guessed id tells nothing), someone else's → 403.
 */
export async function callFor(db: Db, user: User, callId: string): Promise<CallSummary> {
  const call = await callSummary(db, callId);
  if (!call) throw new ApiError(404, 'no_call', `没有该通话 / no call ${callId}`);
  if (!isLead(user) && !call.agentIds.includes(user.id)) throw new ApiError(403, 'not_your_call', '这不是您的通话 / this call belongs to another agent');
  return call;
}

const CONTROL_ANSWER: Record<string, [number, string]> = {
  no_call: [404, '通话已结束或不存在 / the call is over or was never bridged'],
  no_party: [409, '该方已不在通话中 / that party is no longer in the call'],
  state: [409, '当前通话状态下无法执行此操作 / not possible in the call’s current state'],
  invalid: [400, '号码或按键无效 / invalid number, extension or digits'],
};

/** Runs a control; a ControlError or AriError becomes an ApiError with zh-CN and English text. */
export async function control<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ControlError) {
      const [status, text] = CONTROL_ANSWER[err.code] ?? [409, err.message];
      throw new ApiError(status, err.code, `${text} (${err.message})`);
    }
    if (err instanceof AriError) throw new ApiError(502, 'telephony_error', `电话系统拒绝了该操作 / Asterisk refused: ${err.ariMessage ?? err.message}`);
    throw err;
  }
}

export const CallParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9:._#-]+$' }) });
/** An extension (agentTemplate `{ext}`): 2–8 digits, as sign-in takes them. */
export const Extension = Type.String({ pattern: '^[0-9]{2,8}$', description: '2–8 digits' });
/** A number as dialled: digits, a leading +, * and #. */
export const DialNumber = Type.String({ pattern: '^\\+?[0-9*#]{2,32}$', description: 'digits, a leading +, * and #' });
