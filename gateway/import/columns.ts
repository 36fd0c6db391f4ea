/**
 * The columns of the bulk import and export files (issue 20): one workbook with three sheets, or one CSV per kind.
 * Each header is written zh-CN first, then English ("姓名 name"); a file may use either language, both, or the
 * field's key. An export writes exactly these columns, so an exported file imports again as it is.
 */
export const KINDS = ['elders', 'contacts', 'devices'] as const;
export type Kind = (typeof KINDS)[number];

export interface Column {
  /** the field the cell fills */
  key: string;
  zh: string;
  en: string;
  /** the template's example */
  example: string;
  required?: boolean;
  /** further header spellings accepted on import */
  aliases?: string[];
}

export const SHEETS: Record<Kind, { zh: string; en: string }> = {
  elders: { zh: '老人', en: 'elders' },
  contacts: { zh: '联系人', en: 'contacts' },
  devices: { zh: '设备', en: 'devices' },
};

export const COLUMNS: Record<Kind, Column[]> = {
  elders: [
    { key: 'key', zh: '外部编号', en: 'external key', example: 'E0001', required: true, aliases: ['编号', 'key', 'elder key'] },
    { key: 'name', zh: '姓名', en: 'name', example: '王秀英', required: true },
    { key: 'gender', zh: '性别', en: 'gender', example: '女' },
    { key: 'birthDate', zh: '出生日期', en: 'birth date', example: '1942-03-07', aliases: ['birthday'] },
    { key: 'idNumber', zh: '身份证号', en: 'ID number', example: '110105194203070027', aliases: ['身份证', 'id'] },
    { key: 'phone', zh: '电话', en: 'phone', example: '13800138000' },
    { key: 'address', zh: '地址', en: 'address', example: '上海市长宁区愚园路 1018 弄 3 号 502 室' },
    { key: 'area', zh: '片区', en: 'area', example: '江苏路街道', aliases: ['社区', 'community'] },
    { key: 'livesAlone', zh: '独居', en: 'lives alone', example: '是' },
    { key: 'dialect', zh: '方言', en: 'dialect', example: '上海话' },
    { key: 'categories', zh: '类别', en: 'category', example: '独居、高龄', aliases: ['categories'] },
    { key: 'conditions', zh: '病情', en: 'conditions', example: '高血压' },
    { key: 'medications', zh: '用药', en: 'medications', example: '氨氯地平 5mg 每日一次' },
    { key: 'allergies', zh: '过敏', en: 'allergies', example: '青霉素' },
    { key: 'doctor', zh: '家庭医生', en: 'doctor', example: '李医生 13900139000', aliases: ['医生'] },
    { key: 'accessNotes', zh: '入户信息', en: 'access notes', example: '钥匙在 301 邻居家', aliases: ['入户说明'] },
  ],
  contacts: [
    { key: 'elderKey', zh: '老人编号', en: 'elder key', example: 'E0001', required: true, aliases: ['外部编号', 'external key'] },
    { key: 'order', zh: '顺序', en: 'order', example: '1', aliases: ['序号'] },
    { key: 'name', zh: '姓名', en: 'name', example: '王建国', required: true },
    { key: 'relation', zh: '关系', en: 'relation', example: '儿子' },
    { key: 'phones', zh: '电话', en: 'phones', example: '13900139001; 021-62345678', required: true, aliases: ['phone'] },
    { key: 'keyHolder', zh: '持钥匙', en: 'key holder', example: '是', aliases: ['持钥匙人'] },
    { key: 'nextOfKin', zh: '直系亲属', en: 'next of kin', example: '是' },
    { key: 'maySms', zh: '接收短信', en: 'may receive SMS', example: '是', aliases: ['sms'] },
    { key: 'notes', zh: '备注', en: 'notes', example: '' },
  ],
  devices: [
    { key: 'identifier', zh: '设备号', en: 'identifier', example: '865028000000017', required: true, aliases: ['imei', 'identifier/imei', 'identifier (imei)', '设备号/imei'] },
    { key: 'protocol', zh: '协议', en: 'protocol', example: 'watch', required: true },
    { key: 'kind', zh: '类型', en: 'kind', example: '手表' },
    { key: 'model', zh: '型号', en: 'model', example: 'Y8' },
    { key: 'simPhone', zh: 'SIM卡号', en: 'SIM number', example: '13800138001', aliases: ['sim', 'sim卡', 'sim phone'] },
    { key: 'elderKey', zh: '老人编号', en: 'elder key', example: 'E0001', aliases: ['外部编号', 'external key'] },
  ],
};

export const header = (c: Column) => `${c.zh} ${c.en}`;

const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase().replace(/[\s_]+/g, ' ').replace(/\s*([/()（）])\s*/g, '$1');

/** The column a header names, in any of its spellings. */
export function columnOf(kind: Kind, text: string): Column | undefined {
  const h = norm(text);
  if (!h) return undefined;
  return COLUMNS[kind].find((c) => [header(c), c.zh, c.en, c.key, ...(c.aliases ?? [])].some((x) => norm(x) === h));
}

/** The sheet a workbook's sheet name stands for ("老人 elders", "老人", "elders"). */
export function kindOfSheet(name: string): Kind | undefined {
  const n = norm(name);
  return KINDS.find((k) => [`${SHEETS[k].zh} ${SHEETS[k].en}`, SHEETS[k].zh, SHEETS[k].en].some((x) => norm(x) === n));
}

/** A CSV's kind from its headers: the one whose required columns are all there. */
export function kindOfHeaders(headers: string[]): Kind | undefined {
  const scores = KINDS.map((k) => {
    const cols = headers.map((h) => columnOf(k, h)).filter((c): c is Column => !!c);
    const keys = new Set(cols.map((c) => c.key));
    const complete = COLUMNS[k].filter((c) => c.required).every((c) => keys.has(c.key));
    return { k, complete, n: keys.size };
  });
  const best = scores.filter((s) => s.complete).sort((a, b) => b.n - a.n)[0];
  return best?.k;
}

/** Cell values the sheets use for yes and no. */
export function yesNo(v: string): boolean | undefined {
  const s = norm(v);
  if (['是', '有', 'y', 'yes', 'true', '1', '√', '✓'].includes(s)) return true;
  if (['否', '无', '不', 'n', 'no', 'false', '0', '×'].includes(s)) return false;
  return undefined;
}

export const GENDERS: Record<string, 'male' | 'female' | 'other'> = { 男: 'male', 女: 'female', 其他: 'other', male: 'male', female: 'female', other: 'other', m: 'male', f: 'female' };
export const GENDER_LABEL = { male: '男', female: '女', other: '其他' } as const;

export const CATEGORY_LABEL: Record<string, string> = { disabled: '失能', living_alone: '独居', empty_nest: '空巢', advanced_age: '高龄' };

export const DEVICE_KIND_LABEL: Record<string, string> = {
  watch: '手表',
  one_key_caller: '一键呼叫器',
  fall_sensor: '跌倒传感器',
  panel: '报警主机',
  pendant: '呼叫挂件',
  other: '其他',
};

/** A code from its code or its zh-CN label. */
export function codeOf(labels: Record<string, string>, v: string): string | undefined {
  const s = norm(v);
  for (const [code, label] of Object.entries(labels)) if (s === code || s === norm(label) || s === code.replace(/_/g, ' ')) return code;
  return undefined;
}

/** Lists in one cell: 独居、高龄 / 13900139001; 13900139002. */
export const splitList = (v: string) => v.split(/[;；,，、/|\n]+/).map((x) => x.trim()).filter(Boolean);
