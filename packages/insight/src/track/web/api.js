// JSON requests to the dashboard's API; failures become ApiError with the server's stable code and message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The dashboard server does not answer (${error.message}). Is \`insight dashboard\` still running?`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: reported below with the HTTP status
  }
  if (!response.ok) throw new ApiError(response.status, body?.code ?? `HTTP_${response.status}`, body?.message ?? response.statusText);
  return body;
}
