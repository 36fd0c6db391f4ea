/**
 * Tiny builders for swagger 1.1/1.2 api-docs in the shape swagger-client 2.0.26 reads (ari.md §4.2).
 * Written by hand from the facts in ari.md; nothing is copied from Asterisk's files.
 */

export interface ParamDoc {
  name: string;
  paramType: 'path' | 'query' | 'body';
  dataType: string;
  required: boolean;
  allowMultiple: boolean;
  defaultValue?: string | number | boolean;
  allowableValues?: { valueType: 'LIST'; values: string[] };
}

export interface OperationDoc {
  httpMethod: 'GET' | 'POST' | 'PUT' | 'DELETE';
  nickname: string;
  responseClass: string;
  summary: string;
  parameters: ParamDoc[];
  errorResponses?: { code: number; reason: string }[];
  upgrade?: string;
  websocketProtocol?: string;
}

export interface ApiDoc {
  path: string;
  description?: string;
  operations: OperationDoc[];
}

export interface PropertyDoc {
  type: string;
  required?: boolean;
  description?: string;
}

export interface ModelDoc {
  id: string;
  description?: string;
  properties: Record<string, PropertyDoc>;
  subTypes?: string[];
  extends?: string;
}

export interface ResourceDoc {
  apiVersion: string;
  swaggerVersion: string;
  basePath: string;
  resourcePath: string;
  apis: ApiDoc[];
  models: Record<string, ModelDoc>;
}

/** Written into the files "on disk"; replaced per request from the Host header (ari.md §0.1). */
export const DISK_BASE_PATH = 'http://localhost:8088/ari';
export const API_VERSION = '9.0.0';

export const pathParam = (name: string): ParamDoc => ({ name, paramType: 'path', dataType: 'string', required: true, allowMultiple: false });

export function query(name: string, dataType = 'string', opts: { required?: boolean; multi?: boolean; def?: string | number | boolean; values?: string[] } = {}): ParamDoc {
  const p: ParamDoc = { name, paramType: 'query', dataType, required: opts.required ?? false, allowMultiple: opts.multi ?? false };
  if (opts.def !== undefined) p.defaultValue = opts.def;
  if (opts.values) p.allowableValues = { valueType: 'LIST', values: opts.values };
  return p;
}

export const bodyParam = (name: string): ParamDoc => ({ name, paramType: 'body', dataType: 'containers', required: false, allowMultiple: false });

export function op(
  httpMethod: OperationDoc['httpMethod'],
  nickname: string,
  responseClass: string,
  summary: string,
  parameters: ParamDoc[],
  errors: [number, string][] = [],
): OperationDoc {
  const o: OperationDoc = { httpMethod, nickname, responseClass, summary, parameters };
  if (errors.length) o.errorResponses = errors.map(([code, reason]) => ({ code, reason }));
  return o;
}

/** `{a: 'string', b: 'Channel?'}` → properties; a trailing `?` marks an optional property. */
export function model(id: string, description: string, props: Record<string, string>): ModelDoc {
  const properties: Record<string, PropertyDoc> = {};
  for (const [name, spec] of Object.entries(props)) {
    const optional = spec.endsWith('?');
    properties[name] = { type: optional ? spec.slice(0, -1) : spec, required: !optional };
  }
  return { id, description, properties };
}

export function resource(name: string, apis: ApiDoc[], models: ModelDoc[]): ResourceDoc {
  return {
    apiVersion: API_VERSION,
    swaggerVersion: '1.2',
    basePath: DISK_BASE_PATH,
    resourcePath: `/api-docs/${name}.{format}`,
    apis,
    models: Object.fromEntries(models.map((m) => [m.id, m])),
  };
}
