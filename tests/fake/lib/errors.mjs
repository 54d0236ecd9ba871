/* Error bodies of the fake, shaped like the real services' (gemini-api.md
 * §6 for Google's {"error": {code, message, status, details}} with
 * google.rpc detail types, §9 for OpenAI's {"error": {message, type, param,
 * code}}). */

const T = 'type.googleapis.com/google.rpc.';

export const STATUS_NAMES = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED', 409: 'ABORTED', 413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED', 502: 'UNAVAILABLE',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

const MESSAGES = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  408: 'Request timed out.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  502: 'Bad Gateway',
  503: 'The model is overloaded. Please try again later.',
  504: 'The request timed out. Please try again.',
};

export function gErr(code, message, details) {
  const e = { code, message: message || MESSAGES[code] || `HTTP ${code}`, status: STATUS_NAMES[code] || 'UNKNOWN' };
  if (details && details.length) e.details = details;
  return { error: e };
}

export function badRequest(message, field) {
  const d = field ? [{ '@type': T + 'BadRequest', fieldViolations: [{ field, description: message }] }] : null;
  return gErr(400, message, d);
}

export function apiKeyInvalid() {
  const msg = 'API key not valid. Please pass a valid API key.';
  return gErr(400, msg, [
    { '@type': T + 'ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' } },
    { '@type': T + 'LocalizedMessage', locale: 'en-US', message: msg },
  ]);
}

export function apiKeyMissing() {
  return gErr(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", [
    { '@type': T + 'ErrorInfo', reason: 'CONSUMER_INVALID', domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' } },
  ]);
}

export function modelNotFound(model, version, method) {
  return gErr(404, `models/${model} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`);
}

/* The real quota 429 (§6.1). q = {waitMs, limit, perDay, retryDelayS}. */
export function quotaExceeded(model, q) {
  const secs = q.retryDelayS != null ? Number(q.retryDelayS) : Math.max(0, q.waitMs) / 1000;
  const delay = q.retryDelayS != null ? `${q.retryDelayS}s` : `${Math.ceil(secs)}s`;
  const per = q.perDay ? 'PerDay' : 'PerMinute';
  const metric = 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
  const quotaId = `GenerateRequests${per}PerProjectPerModel-FreeTier`;
  const msg = 'You exceeded your current quota, please check your plan and billing details. ' +
    'For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. ' +
    'To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n' +
    `* Quota exceeded for metric: ${metric}, limit: ${q.limit}, model: ${model}\n` +
    `Please retry in ${q.retryDelayS != null ? q.retryDelayS : secs.toFixed(1)}s.`;
  return gErr(429, msg, [
    { '@type': T + 'QuotaFailure', violations: [{ quotaMetric: metric, quotaId,
      quotaDimensions: { location: 'global', model }, quotaValue: String(q.limit) }] },
    { '@type': T + 'Help', links: [{ description: 'Learn more about Gemini API quotas',
      url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    { '@type': T + 'RetryInfo', retryDelay: delay },
  ]);
}

/* ---------- OpenAI ---------- */

export function oErr(message, type, code = null, param = null) {
  return { error: { message, type, param, code } };
}

export const OPENAI_STATUS = {
  400: () => oErr('Invalid request.', 'invalid_request_error'),
  401: () => oErr('Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'),
  403: () => oErr('You are not allowed to sample from this model', 'invalid_request_error', 'unsupported_country_region_territory'),
  404: () => oErr('The requested resource was not found.', 'invalid_request_error', 'not_found'),
  429: () => oErr('Rate limit reached. Please try again later.', 'requests', 'rate_limit_exceeded'),
  500: () => oErr('The server had an error while processing your request. Sorry about that!', 'server_error'),
  502: () => oErr('Bad gateway.', 'server_error'),
  503: () => oErr('The engine is currently overloaded, please try again later.', 'server_error'),
};

export function openaiStatusBody(code) {
  const f = OPENAI_STATUS[code];
  return f ? f() : oErr(`HTTP ${code}`, code >= 500 ? 'server_error' : 'invalid_request_error');
}
