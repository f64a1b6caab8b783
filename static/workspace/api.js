// The workspace saves through the REST API (/api/v1/), with the session cookie and CSRF header.

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const detail = (body && body.detail) || fallback || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.body = body || {};
    this.errors = (body && body.errors) || {};
    this.currentVersion = body ? body.current_version : undefined;
  }

  get isConflict() {
    return this.status === 409;
  }
}

export class Api {
  constructor(base, csrfToken) {
    this.base = base; // "/api/v1/projects/<slug>/"
    this.csrfToken = csrfToken;
  }

  csrf() {
    // The cookie is the freshest token (login rotates it); the page's copy is the fallback.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : this.csrfToken;
  }

  async request(method, path, body) {
    const url = path.startsWith("/") ? path : this.base + path;
    const init = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") init.headers["X-CSRFToken"] = this.csrf();
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, null, `The server could not be reached (${err.message}). Nothing was saved.`);
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const fallback =
        response.status === 403
          ? "Not allowed (403): you may not change this layer, or your session expired — log in again."
          : `The server answered ${response.status} ${response.statusText}.`;
      throw new ApiError(response.status, data, fallback);
    }
    return data;
  }
}
