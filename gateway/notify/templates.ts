/**
 * SMS templates as data (issue 21), zh-CN and English, with {placeholders}. A missing value leaves its placeholder
 * empty; every text ends with the opt-out line the carriers require for messages to the public (families), not to
 * staff. Keep them short: 70 Chinese characters make one SMS, longer texts go in parts (67 each).
 */
export const SMS_TEMPLATES = {
  /** to a contact who may receive SMS, when an alarm is raised */
  alarm_raised: {
    'zh-CN': '【安心】{elder}于{time}发出{kind}，中心正在处理，请保持电话畅通。',
    en: '[Anxin] {elder} raised a {kind} alarm at {time}. The centre is on it; please keep your phone free.',
  },
  /** to the same contacts, when it is resolved */
  alarm_outcome: {
    'zh-CN': '【安心】{elder}的{kind}已处理：{outcome}。',
    en: "[Anxin] {elder}'s {kind} alarm was handled: {outcome}.",
  },
  /** to the staff member a work order was dispatched to */
  dispatch: {
    'zh-CN': '【安心】工单{order}：{task}。老人{elder}，地址{address}。{access}回复1接单，2拒单，或打开 {link}',
    en: '[Anxin] Order {order}: {task}. {elder}, {address}. {access}Reply 1 to accept, 2 to refuse, or open {link}',
  },
  /** to the staff member, when a service level of their order was missed (it may go to someone else) */
  sla_overdue: {
    'zh-CN': '【安心】工单{order}未在规定时间内{check}，中心已知悉，可能改派他人。',
    en: '[Anxin] Order {order}: {check} is overdue. The centre knows and may give it to someone else.',
  },
  /** to contacts marked for it, when the welfare calls of the day all failed (issue 22) */
  welfare_failed: {
    'zh-CN': '【安心】今日多次致电{elder}未获应答，中心将安排上门探访。',
    en: '[Anxin] We could not reach {elder} by phone today; the centre will arrange a visit.',
  },
  /** to the elder, a reminder by SMS (issue 22): medication or an appointment */
  care_reminder: {
    'zh-CN': '【安心】{elder}您好，提醒您{what}{note}。如需帮助请致电服务中心。',
    en: '[Anxin] Hello {elder}, a reminder: {what}{note}. Call the centre if you need help.',
  },
} as const;

export type SmsTemplate = keyof typeof SMS_TEMPLATES;
export type SmsLocale = 'zh-CN' | 'en';

/** For families: how to stop these messages (回复TD退订). */
export const OPT_OUT_LINE: Record<SmsLocale, string> = { 'zh-CN': '回复TD退订', en: 'Reply TD to stop' };

/** The text of a template with its values (text only: values are never markup, and SMS shows them as they are). */
export function renderSms(t: SmsTemplate, vars: Record<string, string | number | null | undefined>, locale: SmsLocale = 'zh-CN', optOut = false): string {
  const text = SMS_TEMPLATES[t][locale].replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    return v === null || v === undefined ? '' : String(v);
  });
  return optOut ? `${text}${locale === 'en' ? ' ' : ''}${OPT_OUT_LINE[locale]}` : text;
}
