/*
 * ValiBlob demo page: resumable uploads through tus (tus-js-client, served by this server), per-file progress
 * with speed and ETA, pause / resume, resume after a page reload, and a list of completed uploads. When the server
 * runs with an upload policy, the page lists what it accepts (GET /demo/policy) and shows a rejection's code and
 * message (TYPE_NOT_ALLOWED, QUOTA_EXCEEDED, VIRUS_FOUND, …) instead of a generic failure.
 *
 * Query parameters (for trying things out and for the browser test):
 *   ?chunkSize=<bytes>  size of each PATCH request (default 5 MiB; smaller = finer progress and pause points)
 *   ?delayMs=<ms>       wait before each PATCH request, to watch (or test) a slow upload on a fast machine
 *   ?retryDelays=<ms,…> tus-js-client's retry schedule after a network error or 5xx (default 0,1000,3000,5000)
 */
(function () {
  'use strict';

  var COMPLETED_KEY = 'valiblob-demo:completed';
  var TOKEN_KEY = 'valiblob-demo:token';
  var MAX_COMPLETED = 50;
  var SPEED_WINDOW_MS = 4000;
  // The library's policy codes: a rejection is final (the session ends Rejected), so none of them is retried, the
  // 503 ones (scanner down, hook timed out) included. A hook's own codes are recognised from the session instead.
  var POLICY_CODES = [
    'TYPE_NOT_ALLOWED',
    'TYPE_MISMATCH',
    'EXTENSION_NOT_ALLOWED',
    'QUOTA_EXCEEDED',
    'VIRUS_FOUND',
    'SCANNER_UNAVAILABLE',
    'UPLOAD_REJECTED',
    'POLICY_TIMEOUT',
    'POLICY_FAILED',
  ];

  var params = new URLSearchParams(window.location.search);
  var chunkSize = positiveInt(params.get('chunkSize')) || 5 * 1024 * 1024;
  var delayMs = positiveInt(params.get('delayMs')) || 0;
  var retryDelays = params.has('retryDelays')
    ? params
        .get('retryDelays')
        .split(',')
        .filter(Boolean)
        .map(Number)
        .filter(function (n) {
          return n >= 0;
        })
    : [0, 1000, 3000, 5000];
  // Absolute, so tus-js-client's stored fingerprints (which include the endpoint) stay stable across reloads.
  var endpoint = new URL('/files', window.location.href).href;

  var el = {
    dropzone: byId('dropzone'),
    input: byId('file-input'),
    uploads: byId('uploads'),
    template: byId('upload-template'),
    completed: byId('completed'),
    completedEmpty: byId('completed-empty'),
    clearCompleted: byId('clear-completed'),
    resumable: byId('resumable'),
    resumableList: byId('resumable-list'),
    pageError: byId('page-error'),
    serverStatus: byId('server-status'),
    limitHint: byId('limit-hint'),
    chunkHint: byId('chunk-hint'),
    token: byId('token-input'),
    policy: byId('policy'),
    policyList: byId('policy-list'),
  };

  if (!window.tus || !window.tus.isSupported) {
    showPageError('This browser cannot run tus-js-client (or /demo/tus.min.js failed to load).');
    return;
  }

  el.token.value = safeStorage('get', TOKEN_KEY) || '';
  byId('settings-form').addEventListener('submit', function (event) {
    event.preventDefault();
  });
  el.token.addEventListener('change', function () {
    safeStorage('set', TOKEN_KEY, el.token.value.trim());
    checkServer();
  });
  el.chunkHint.textContent =
    'Chunk size ' + formatBytes(chunkSize) + (delayMs ? ', ' + delayMs + ' ms pause before each chunk' : '') + '.';

  el.input.addEventListener('change', function () {
    addFiles(el.input.files);
    // Reset so picking the same file again (e.g. to resume after a reload) fires `change` again.
    el.input.value = '';
  });
  ['dragenter', 'dragover'].forEach(function (type) {
    el.dropzone.addEventListener(type, function (event) {
      event.preventDefault();
      el.dropzone.classList.add('dragging');
    });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    el.dropzone.addEventListener(type, function (event) {
      event.preventDefault();
      el.dropzone.classList.remove('dragging');
    });
  });
  el.dropzone.addEventListener('drop', function (event) {
    if (event.dataTransfer && event.dataTransfer.files) addFiles(event.dataTransfer.files);
  });
  el.clearCompleted.addEventListener('click', function () {
    safeStorage('remove', COMPLETED_KEY);
    renderCompleted();
  });

  renderCompleted();
  renderResumable();
  checkServer();
  loadPolicy();
  // Keep the status pill honest while the page stays open (cheap: an OPTIONS request).
  setInterval(checkServer, 15000);

  // ---------------------------------------------------------------------------------------------------------
  // Uploads

  function addFiles(fileList) {
    hidePageError();
    for (var i = 0; i < fileList.length; i++) startUpload(fileList[i]);
  }

  function startUpload(file) {
    var item = createItem(file);
    var upload = new window.tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: chunkSize,
      retryDelays: retryDelays,
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      headers: authHeaders(),
      // A finished upload must not be "resumed" when the same file is picked again: start a new one.
      removeFingerprintOnSuccess: true,
      onBeforeRequest: function (req) {
        if (req.getMethod() !== 'PATCH') return undefined;
        if (item.awaitingFirstPatch) {
          // Where this run continues: 0 for a fresh upload, the server's offset after a pause, error or reload.
          item.awaitingFirstPatch = false;
          var offset = Number(req.getHeader('Upload-Offset')) || 0;
          item.li.dataset.startOffset = String(offset);
          item.note = offset > 0 ? 'resumed at ' + formatBytes(offset) : '';
        }
        return delayMs ? wait(delayMs) : undefined;
      },
      onUploadUrlAvailable: function () {
        item.li.dataset.uploadUrl = upload.url;
        renderResumable();
      },
      onProgress: function (sent, total) {
        progress(item, sent, total);
      },
      onShouldRetry: function (error, attempt) {
        var status = responseStatus(error);
        if (rejectionOf(status, responseBody(error))) return false;
        var retry = status === 0 || status >= 500 || status === 409 || status === 423;
        if (retry) {
          item.awaitingFirstPatch = true;
          setState(item, 'retrying', 'Connection problem — retry ' + (attempt + 1) + ' of ' + retryDelays.length + '…');
        }
        return retry;
      },
      onError: function (error) {
        failed(item, error);
      },
      onSuccess: function () {
        succeeded(item);
      },
    });
    item.upload = upload;

    item.buttons.pause.addEventListener('click', function () {
      // Paused means paused: a progress event that was already on its way must not move the bar any more.
      item.paused = true;
      upload.abort().then(function () {
        item.samples = [];
        setState(item, 'paused', 'Paused');
        renderResumable();
      });
    });
    item.buttons.resume.addEventListener('click', function () {
      hidePageError();
      item.error.hidden = true;
      item.samples = [];
      item.awaitingFirstPatch = true;
      item.paused = false;
      setState(item, 'uploading', '');
      upload.start();
    });
    item.buttons.cancel.addEventListener('click', function () {
      // abort(true) also terminates the upload on the server (tus DELETE) and forgets the stored URL.
      upload
        .abort(true)
        .catch(function () {
          /* already gone */
        })
        .then(function () {
          item.li.remove();
          renderResumable();
        });
    });
    item.buttons.dismiss.addEventListener('click', function () {
      item.li.remove();
    });

    // Resume where a previous visit stopped: tus-js-client keeps upload URLs in localStorage by file fingerprint.
    upload
      .findPreviousUploads()
      .then(function (previous) {
        if (previous.length > 0) {
          previous.sort(function (a, b) {
            return Date.parse(b.creationTime) - Date.parse(a.creationTime);
          });
          upload.resumeFromPreviousUpload(previous[0]);
          item.note = 'resuming a previous upload';
        }
        item.awaitingFirstPatch = true;
        setState(item, 'uploading', '');
        upload.start();
      })
      .catch(function (error) {
        failed(item, error);
      });
  }

  function createItem(file) {
    var li = el.template.content.firstElementChild.cloneNode(true);
    li.querySelector('.file-name').textContent = file.name;
    li.querySelector('.file-size').textContent = formatBytes(file.size);
    el.uploads.prepend(li);
    return {
      file: file,
      li: li,
      upload: null,
      samples: [],
      awaitingFirstPatch: true,
      note: '',
      bar: li.querySelector('.progress'),
      fill: li.querySelector('.progress-fill'),
      percent: li.querySelector('.percent'),
      bytes: li.querySelector('.bytes'),
      speed: li.querySelector('.speed'),
      eta: li.querySelector('.eta'),
      stateLabel: li.querySelector('.state-label'),
      error: li.querySelector('.upload-error'),
      errorCode: li.querySelector('.error-code'),
      errorMessage: li.querySelector('.error-message'),
      buttons: {
        pause: li.querySelector('[data-action="pause"]'),
        resume: li.querySelector('[data-action="resume"]'),
        cancel: li.querySelector('[data-action="cancel"]'),
        dismiss: li.querySelector('[data-action="dismiss"]'),
      },
    };
  }

  function progress(item, sent, total) {
    if (item.paused) return;
    var now = performance.now();
    item.samples.push([now, sent]);
    while (item.samples.length > 2 && now - item.samples[0][0] > SPEED_WINDOW_MS) item.samples.shift();
    var pct = total > 0 ? (sent / total) * 100 : 100;
    item.fill.style.width = pct.toFixed(2) + '%';
    item.bar.setAttribute('aria-valuenow', String(Math.floor(pct)));
    item.li.dataset.percent = pct.toFixed(2);
    item.li.dataset.bytes = String(sent);
    item.percent.textContent = Math.floor(pct) + ' %';
    item.bytes.textContent = formatBytes(sent) + ' of ' + formatBytes(total);
    var first = item.samples[0];
    var elapsed = (now - first[0]) / 1000;
    if (elapsed > 0.25 && sent > first[1]) {
      var rate = (sent - first[1]) / elapsed;
      item.speed.textContent = formatBytes(rate) + '/s';
      item.eta.textContent = formatDuration((total - sent) / rate) + ' left';
    }
    var state = item.li.dataset.state;
    if (state === 'starting' || state === 'retrying') setState(item, 'uploading', '');
    else if (state === 'uploading') item.stateLabel.textContent = item.note ? '(' + item.note + ')' : '';
  }

  function succeeded(item) {
    var upload = item.upload;
    item.fill.style.width = '100%';
    item.li.dataset.percent = '100';
    item.percent.textContent = '100 %';
    item.speed.textContent = '';
    item.eta.textContent = '';
    setState(item, 'finishing', 'Verifying…');
    var uploadId = upload.url.split('/').pop();
    // The tus answer does not carry the stored path; the REST status route of the same upload does
    // (plus the whole-file sha256 the server computed).
    fetch('/uploads/' + encodeURIComponent(uploadId), { headers: authHeaders() })
      .then(function (response) {
        if (!response.ok) throw new Error('status ' + response.status);
        return response.json();
      })
      .then(function (session) {
        return { path: session.path, sha256: session.checksum, size: session.totalSize };
      })
      // Still downloadable through the tus endpoint itself (GET /files/:id) if the REST route is off.
      .catch(function () {
        return { path: null, sha256: null, size: item.file.size };
      })
      .then(function (info) {
        addCompleted({
          name: item.file.name,
          size: info.size,
          path: info.path,
          sha256: info.sha256,
          url: info.path ? blobUrl(info.path) : upload.url,
          completedAt: new Date().toISOString(),
        });
        setState(item, 'complete', 'Done');
        renderResumable();
        // Leave the finished row visible briefly, then let the completed list take over.
        // Then list again what is left to resume: tus-js-client forgets the finished upload's URL asynchronously.
        setTimeout(function () {
          item.li.remove();
          renderResumable();
        }, 1500);
      });
  }

  function failed(item, error) {
    var status = responseStatus(error);
    var body = responseBody(error);
    var rejection = rejectionOf(status, body);
    if (rejection) return rejected(item, rejection);
    var code = '';
    var message;
    if (status === 413) {
      var max = Number(header(error, 'Tus-Max-Size'));
      message =
        'Too large: ' +
        formatBytes(item.file.size) +
        ' is over this server\u2019s limit' +
        (max > 0 ? ' of ' + formatBytes(max) : '') +
        '.';
    } else if (status === 401 || status === 403) {
      message = 'Not allowed (' + status + '): set the access token under Settings, then press Resume.';
    } else if (status === 404 || status === 410) {
      message = 'The server no longer knows this upload (' + status + '). Pick the file again to start over.';
    } else if (status === 0) {
      message = 'Cannot reach the server. Check that it is running, then press Resume.';
      setServerStatus('offline', 'Server unreachable');
    } else {
      code = body && typeof body.code === 'string' ? body.code : '';
      message = 'Upload failed (' + status + '): ' + ((body && body.message) || error.message);
    }
    showError(item, code, message);
    item.li.dataset.errorStatus = String(status);
    setState(item, 'error', 'Failed');
    renderResumable();
    // A hook may refuse with a code of its own (NOT_AN_INVOICE, …): the session says whether that was a rejection.
    if (status >= 400 && item.upload && item.upload.url) checkRejected(item);
  }

  /** The upload policy refused the file: show its code and reason; nothing is left to resume. */
  function rejected(item, rejection) {
    showError(item, rejection.code, rejection.message);
    item.li.dataset.errorStatus = String(rejection.status);
    item.li.dataset.errorCode = rejection.code;
    setState(item, 'rejected', 'Rejected (' + rejection.status + ')');
    forgetStoredUpload(item);
  }

  function showError(item, code, message) {
    item.errorCode.textContent = code;
    item.errorCode.hidden = !code;
    item.errorMessage.textContent = message;
    item.error.hidden = false;
    item.speed.textContent = '';
    item.eta.textContent = '';
  }

  /** Ask the REST status route whether the session ended `Rejected` (it then carries the rejection). */
  function checkRejected(item) {
    var uploadId = item.upload.url.split('/').pop();
    fetch('/uploads/' + encodeURIComponent(uploadId), { headers: authHeaders() })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (session) {
        // Only while the failure is still on screen: the user may have pressed Resume meanwhile.
        if (session && session.status === 'Rejected' && session.rejection && item.li.dataset.state === 'error') {
          rejected(item, session.rejection);
        }
      })
      .catch(function () {
        /* the failure shown stays as it is */
      });
  }

  /** A rejected upload cannot be resumed: drop tus-js-client's stored URL so the same file starts afresh. */
  function forgetStoredUpload(item) {
    var storage = window.tus.defaultOptions.urlStorage;
    var url = item.upload && item.upload.url;
    if (!url || !storage || !storage.findAllUploads) return;
    storage
      .findAllUploads()
      .then(function (stored) {
        return Promise.all(
          stored
            .filter(function (entry) {
              return entry.uploadUrl === url;
            })
            .map(function (entry) {
              return storage.removeUpload(entry.urlStorageKey);
            }),
        );
      })
      .then(renderResumable);
  }

  function setState(item, state, label) {
    item.li.dataset.state = state;
    item.stateLabel.textContent = label || (item.note ? '(' + item.note + ')' : '');
    var active = state === 'uploading' || state === 'retrying' || state === 'starting';
    var resumable = state === 'paused' || (state === 'error' && item.li.dataset.errorStatus !== '413');
    // A rejection is final: the server already freed what was stored, nothing to resume or cancel.
    var final = state === 'complete' || state === 'finishing' || state === 'rejected';
    item.buttons.pause.hidden = !active;
    item.buttons.resume.hidden = !resumable;
    item.buttons.cancel.hidden = final || item.li.dataset.errorStatus === '413';
    item.buttons.dismiss.hidden = !(state === 'error' || state === 'rejected');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Completed and interrupted uploads

  function addCompleted(entry) {
    var list = readCompleted();
    list.unshift(entry);
    safeStorage('set', COMPLETED_KEY, JSON.stringify(list.slice(0, MAX_COMPLETED)));
    renderCompleted();
  }

  function readCompleted() {
    try {
      var list = JSON.parse(safeStorage('get', COMPLETED_KEY) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  function renderCompleted() {
    var list = readCompleted();
    el.completed.textContent = '';
    el.completedEmpty.hidden = list.length > 0;
    el.clearCompleted.hidden = list.length === 0;
    list.forEach(function (entry) {
      var li = document.createElement('li');
      li.className = 'completed-item';
      li.dataset.testid = 'completed';
      if (entry.sha256) li.dataset.sha256 = entry.sha256;
      var link = document.createElement('a');
      link.href = entry.url;
      link.className = 'download';
      link.textContent = entry.name;
      link.setAttribute('download', entry.name);
      link.addEventListener('click', function (event) {
        // Links cannot carry a bearer token: with one set, download through fetch instead.
        if (!el.token.value.trim()) return;
        event.preventDefault();
        downloadWithToken(entry.url, entry.name);
      });
      var meta = document.createElement('span');
      meta.className = 'muted';
      meta.textContent = formatBytes(entry.size) + ' · ' + new Date(entry.completedAt).toLocaleString();
      var path = document.createElement('code');
      path.className = 'blob-path';
      path.textContent = entry.path || entry.url;
      li.append(link, meta, path);
      if (entry.sha256) {
        var sum = document.createElement('code');
        sum.className = 'checksum';
        sum.title = 'sha256 computed by the server';
        sum.textContent = 'sha256 ' + entry.sha256.slice(0, 16) + '…';
        li.append(sum);
      }
      el.completed.append(li);
    });
  }

  function renderResumable() {
    var storage = window.tus.defaultOptions.urlStorage;
    if (!storage || !storage.findAllUploads) return;
    storage.findAllUploads().then(function (stored) {
      // Uploads running on this page are shown above; list only what a previous visit left behind.
      var running = Array.prototype.map.call(el.uploads.querySelectorAll('[data-upload-url]'), function (li) {
        return li.dataset.uploadUrl;
      });
      stored = stored.filter(function (entry) {
        return running.indexOf(entry.uploadUrl) === -1;
      });
      el.resumableList.textContent = '';
      el.resumable.hidden = stored.length === 0;
      stored.forEach(function (entry) {
        var li = document.createElement('li');
        var name = (entry.metadata && entry.metadata.filename) || 'unnamed file';
        var label = document.createElement('span');
        label.textContent = name + ' · started ' + new Date(entry.creationTime).toLocaleString();
        var forget = document.createElement('button');
        forget.type = 'button';
        forget.className = 'btn ghost small';
        forget.textContent = 'Forget';
        forget.addEventListener('click', function () {
          storage.removeUpload(entry.urlStorageKey).then(renderResumable);
        });
        li.append(label, forget);
        el.resumableList.append(li);
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Server status, errors, helpers

  function checkServer() {
    fetch(endpoint, { method: 'OPTIONS' })
      .then(function (response) {
        var max = Number(response.headers.get('Tus-Max-Size'));
        if (max > 0)
          el.limitHint.textContent =
            'Up to ' + formatBytes(max) + ' per file. Uploads resume after a lost connection or a page reload.';
        setServerStatus('online', 'Server online');
      })
      .catch(function () {
        setServerStatus('offline', 'Server unreachable');
      });
  }

  function setServerStatus(state, label) {
    el.serverStatus.dataset.state = state;
    el.serverStatus.querySelector('.label').textContent = label;
  }

  /** What the server's upload policy accepts, listed above the uploads (nothing shown without a policy). */
  function loadPolicy() {
    fetch('/demo/policy')
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(renderPolicy)
      .catch(function () {
        /* an older server without the route: no list */
      });
  }

  function renderPolicy(policy) {
    if (!policy) return;
    var rules = [];
    if (policy.allowedContentTypes) rules.push(['types', 'Types: ' + policy.allowedContentTypes.join(', ')]);
    if (policy.allowedExtensions) rules.push(['extensions', 'Extensions: ' + policy.allowedExtensions.join(', ')]);
    if (policy.blockedExtensions) {
      rules.push(['blocked', 'Never: ' + policy.blockedExtensions.map(dotted).join(', ') + ' files']);
    }
    if (policy.sniff === 'enforce') {
      rules.push([
        'sniff',
        'The type is checked from the file\u2019s bytes; a file that is not what it claims is refused',
      ]);
    } else if (policy.sniff === 'on') {
      rules.push(['sniff', 'The type is detected from the file\u2019s bytes']);
    }
    if (policy.quotaBytes) {
      var scope = policy.quotaScope === 'owner' ? ' per account' : ' in total (shared by all uploads)';
      rules.push(['quota', 'Storage quota: ' + formatBytes(policy.quotaBytes) + scope]);
    }
    if (policy.virusScan) rules.push(['scan', 'Files are scanned for viruses before they are published']);
    el.policyList.textContent = '';
    rules.forEach(function (rule) {
      var li = document.createElement('li');
      li.dataset.rule = rule[0];
      li.textContent = rule[1];
      el.policyList.append(li);
    });
    el.policy.hidden = rules.length === 0;
  }

  function dotted(extension) {
    return '.' + extension;
  }

  function downloadWithToken(url, name) {
    fetch(url, { headers: authHeaders() })
      .then(function (response) {
        if (!response.ok) throw new Error('Download failed with status ' + response.status);
        return response.blob();
      })
      .then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = name;
        a.click();
        setTimeout(function () {
          URL.revokeObjectURL(a.href);
        }, 10000);
      })
      .catch(function (error) {
        showPageError(error.message);
      });
  }

  function authHeaders() {
    var token = el.token.value.trim();
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  function blobUrl(path) {
    return '/blobs/' + path.split('/').map(encodeURIComponent).join('/');
  }

  function responseStatus(error) {
    var response = error && error.originalResponse;
    return response ? response.getStatus() : 0;
  }

  function header(error, name) {
    var response = error && error.originalResponse;
    return response ? response.getHeader(name) : undefined;
  }

  /** The JSON error body (`{ statusCode, code, message }`), or `null`. */
  function responseBody(error) {
    var response = error && error.originalResponse;
    if (!response) return null;
    try {
      var body = JSON.parse(response.getBody());
      return body && typeof body === 'object' ? body : null;
    } catch (parseError) {
      return null;
    }
  }

  /** `{ status, code, message }` when the answer is one of the library's policy rejections, else `null`. */
  function rejectionOf(status, body) {
    if (!body || POLICY_CODES.indexOf(body.code) === -1) return null;
    return { status: status || body.statusCode, code: body.code, message: String(body.message || '') };
  }

  function showPageError(message) {
    el.pageError.textContent = message;
    el.pageError.hidden = false;
  }

  function hidePageError() {
    el.pageError.hidden = true;
  }

  function safeStorage(op, key, value) {
    try {
      if (op === 'get') return window.localStorage.getItem(key);
      if (op === 'set') return window.localStorage.setItem(key, value);
      return window.localStorage.removeItem(key);
    } catch (error) {
      return null; // private mode or storage disabled: the page still works, it just forgets.
    }
  }

  function positiveInt(value) {
    var n = Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  }

  function wait(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function formatBytes(bytes) {
    if (!(bytes >= 0)) return '';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i++;
    }
    return (i === 0 ? String(bytes) : bytes.toFixed(bytes < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function formatDuration(seconds) {
    if (!isFinite(seconds)) return '';
    if (seconds < 1) return '<1 s';
    if (seconds < 60) return Math.round(seconds) + ' s';
    var m = Math.floor(seconds / 60);
    if (m < 60) return m + ' min ' + Math.round(seconds % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
})();
