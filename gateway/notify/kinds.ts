/** Alarm kinds as an SMS names them (the dashboard's kind.* labels, kept here for the server's own texts). */
import type { AlarmKind } from '../../protocols/message.js';
import type { SmsLocale } from './templates.js';

export const KIND_NAMES: Record<AlarmKind, Record<SmsLocale, string>> = {
  sos: { 'zh-CN': "SOS求救", en: "SOS" },
  fall: { 'zh-CN': "跌倒报警", en: "Fall" },
  one_key_emergency: { 'zh-CN': "一键紧急呼叫", en: "Emergency key" },
  medical: { 'zh-CN': "医疗求助", en: "Medical help" },
  fire: { 'zh-CN': "火警", en: "Fire" },
  smoke: { 'zh-CN': "烟雾报警", en: "Smoke" },
  gas: { 'zh-CN': "燃气泄漏", en: "Gas leak" },
  geofence_exit: { 'zh-CN': "离开电子围栏", en: "Left the geofence" },
  vitals_abnormal: { 'zh-CN': "体征异常", en: "Abnormal vital signs" },
  inactivity: { 'zh-CN': "长时间无活动", en: "No activity" },
  help_requested: { 'zh-CN': "平安呼叫求助", en: "Help requested on a welfare call" },
  welfare_check_failed: { 'zh-CN': "平安呼叫未接通", en: "Welfare call failed" },
  removed: { 'zh-CN': "手表被摘下", en: "Watch taken off" },
  power_cut: { 'zh-CN': "断电", en: "Power cut" },
  tamper: { 'zh-CN': "设备被拆", en: "Tamper" },
  device_clone_suspected: { 'zh-CN': "疑似设备克隆", en: "Device clone suspected" },
  device_silent: { 'zh-CN': "设备离线", en: "Device offline" },
  test_missed: { 'zh-CN': "测试未到", en: "Test missed" },
  low_battery: { 'zh-CN': "低电量", en: "Low battery" },
  receiver_silent: { 'zh-CN': "接警机离线", en: "Receiver offline" },
  one_key_service: { 'zh-CN': "一键服务请求", en: "Service request" },
};
