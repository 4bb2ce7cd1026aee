// The phone report form (上报) and the portal's forms: location button, draft kept in the browser,
// photos kept with the draft and uploaded before the send, an idempotent send with errors in place.
// No build step. The pages work without it (plain POST); this only makes them survive a bad network.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var STORE = window.TaizhangDrafts.STORE;
  var MAX_SIDE = 1600; // photos are shrunk to at most 1600 px (JPEG) before they go into the draft
  var MAX_PHOTOS = 9; // the server's TAIZHANG_MAX_PHOTOS_PER_FORM comes with the form (data-max-photos)

  // ---- Draft storage: IndexedDB (room for photos), localStorage when IndexedDB is unavailable ----
  function openDb() { return window.TaizhangDrafts.open(true); } // app.js: one place for the database
  function withStore(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  var drafts = {
    get: function (key) {
      return withStore("readonly", function (s) { return s.get(key); }).catch(function () {
        var raw = window.localStorage.getItem(key);
        return raw ? JSON.parse(raw) : undefined;
      });
    },
    put: function (key, value) {
      return withStore("readwrite", function (s) { return s.put(value, key); }).catch(function () {
        try { window.localStorage.setItem(key, JSON.stringify(value)); }
        catch (e) { // too big for localStorage: keep the text, drop the photos' pictures
          var slim = JSON.parse(JSON.stringify(value));
          slim.photos = slim.photos.filter(function (p) { return p.id; }).map(function (p) { return { id: p.id, name: p.name }; });
          window.localStorage.setItem(key, JSON.stringify(slim));
        }
      });
    },
    remove: function (key) {
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
      return withStore("readwrite", function (s) { return s.delete(key); }).catch(function () {});
    }
  };

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(ms) {
    var d = new Date(ms);
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // ---- The browser's location ----
  function geolocate(btn) {
    var status = document.getElementById(btn.getAttribute("data-status"));
    var lat = document.getElementById(btn.getAttribute("data-lat"));
    var lon = document.getElementById(btn.getAttribute("data-lon"));
    function say(text, bad) {
      status.textContent = text;
      status.classList.toggle("field-error", !!bad);
      status.setAttribute("role", bad ? "alert" : "status");
    }
    if (!("geolocation" in navigator)) { say("此浏览器不支持定位，请手动填写地址或经纬度。", true); return; }
    if (window.isSecureContext === false) {
      say("浏览器只允许 HTTPS 网站定位：请通过 HTTPS 访问本系统，或手动填写地址。", true);
      return;
    }
    say("正在获取当前位置…");
    btn.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      btn.disabled = false;
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      lat.dispatchEvent(new Event("change", { bubbles: true }));
      say("已获取当前位置（精度约 " + Math.round(pos.coords.accuracy || 0) + " 米）。");
    }, function (err) {
      btn.disabled = false;
      var messages = {
        1: "未获得定位权限：请在浏览器或手机设置中允许本网站使用位置信息，然后重试；也可以手动填写地址。",
        2: "暂时无法确定位置（信号弱或系统定位已关闭），请到开阔处重试或手动填写地址。",
        3: "定位超时，请重试或手动填写地址。"
      };
      say(messages[err.code] || ("定位失败：" + err.message), true);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-geolocate]");
    if (btn) { ev.preventDefault(); geolocate(btn); }
  });

  // ---- A form built for several mechanisms shows the chosen one's inputs (the others are not sent) ----
  function showMechanism(form) {
    var checked = form.querySelector("input[name=mechanism]:checked");
    if (!checked) { return; }
    form.querySelectorAll("fieldset[data-mechanism]").forEach(function (fs) {
      var on = fs.getAttribute("data-mechanism") === checked.value;
      fs.hidden = !on;
      fs.disabled = !on;
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.name === "mechanism" && ev.target.form) { showMechanism(ev.target.form); }
  });

  // ---- Photos: shrunk in the browser, kept as data URLs in the draft until uploaded ----
  function shrink(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        resolve({ id: null, name: file.name.replace(/\.[^.]*$/, "") + ".jpg", dataUrl: canvas.toDataURL("image/jpeg", 0.82) });
      };
      img.onerror = function () { // not an image the browser can draw: keep it as it is, the server decides
        URL.revokeObjectURL(url);
        var reader = new FileReader();
        reader.onload = function () { resolve({ id: null, name: file.name, dataUrl: reader.result }); };
        reader.readAsDataURL(file);
      };
      img.src = url;
    });
  }
  function toBlob(dataUrl) {
    var parts = dataUrl.split(","), mime = (parts[0].match(/:(.*?);/) || [])[1] || "application/octet-stream";
    var bin = atob(parts[1]), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return new Blob([bytes], { type: mime });
  }

  // ---- One report form with its draft ----
  function DraftForm(form, restore) {
    this.form = form;
    this.key = form.getAttribute("data-draft-key");
    this.photoUrl = form.getAttribute("data-photo-url");
    this.maxPhotos = Number(form.getAttribute("data-max-photos")) || MAX_PHOTOS;
    this.area = form.parentNode;
    this.photos = [];
    this.timer = null;
    this.bind();
    this.load(restore);
  }
  DraftForm.prototype.el = function (sel) { return this.form.querySelector(sel); };
  DraftForm.prototype.idemInput = function () { return this.el("input[name=idempotency_key]"); };

  DraftForm.prototype.bind = function () {
    var self = this, form = this.form;
    form.addEventListener("input", function () { self.schedule(); });
    form.addEventListener("change", function (ev) {
      if (ev.target.type === "file") { self.addFiles(ev.target); return; }
      self.schedule();
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); self.send(); });
    // A reload within the 250 ms after the last keystroke must not lose it.
    window.addEventListener("pagehide", function () { if (self.timer) { self.saveNow(); } });
    form.addEventListener("click", function (ev) {
      if (ev.target.closest("[data-clear-draft]")) { ev.preventDefault(); self.clear(); }
      var remove = ev.target.closest("[data-remove-photo]");
      if (remove) {
        ev.preventDefault();
        self.photos.splice(Number(remove.getAttribute("data-remove-photo")), 1);
        self.renderPhotos();
        self.saveNow();
      }
    });
  };

  DraftForm.prototype.showMechanism = function () { showMechanism(this.form); };

  // The form's state: every named control by id (the file input and the CSRF token aside).
  DraftForm.prototype.values = function () {
    var out = {};
    this.form.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (el) {
      if (el.type === "file" || el.type === "hidden") { return; }
      out[el.id] = (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
    });
    return out;
  };
  DraftForm.prototype.apply = function (values) {
    var form = this.form;
    Object.keys(values || {}).forEach(function (id) {
      var el = form.querySelector("#" + CSS.escape(id));
      if (!el) { return; }
      if (el.type === "checkbox" || el.type === "radio") { el.checked = !!values[id]; } else { el.value = values[id]; }
    });
  };

  DraftForm.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.saveNow(); }, 250);
  };
  DraftForm.prototype.saveNow = function () {
    clearTimeout(this.timer);
    this.timer = null;
    var self = this, now = Date.now();
    return drafts.put(this.key, {
      idempotencyKey: this.idemInput().value,
      savedAt: now,
      values: this.values(),
      photos: this.photos
    }).then(function () {
      var d = new Date(now);
      self.notice("草稿已自动保存在本机（" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "）。");
    });
  };

  DraftForm.prototype.load = function (restore) {
    var self = this;
    drafts.get(this.key).then(function (draft) {
      if (draft) {
        self.idemInput().value = draft.idempotencyKey;
        self.photos = draft.photos || [];
        if (restore) {
          self.apply(draft.values);
          self.notice("已恢复 " + when(draft.savedAt) + " 保存的草稿" +
                      (self.photos.length ? "（含 " + self.photos.length + " 张照片）" : "") + "。");
        }
      } else { // photos the server already knows (a form sent without this script)
        self.form.querySelectorAll("#photo-list [data-attachment]").forEach(function (li) {
          self.photos.push({ id: Number(li.getAttribute("data-attachment")), name: li.textContent.trim(), dataUrl: null });
        });
      }
      self.showMechanism();
      self.renderPhotos();
      self.form.setAttribute("data-draft-ready", "1");
    });
  };

  DraftForm.prototype.notice = function (text) {
    var box = this.el("#draft-notice");
    if (!box) { return; }
    box.querySelector("[data-draft-text]").textContent = text;
    box.hidden = !text;
  };
  DraftForm.prototype.status = function (text, tone) {
    var box = this.el("#send-status");
    box.textContent = text;
    box.hidden = !text;
    box.className = "send-status" + (tone === "info" ? " info" : "");
    box.setAttribute("role", tone === "info" ? "status" : "alert");
  };

  DraftForm.prototype.clear = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = null;
    drafts.remove(this.key).then(function () {
      self.form.reset();
      self.idemInput().value = randomKey(); // a new draft is a new report: never the old one's key
      self.photos = [];
      self.renderPhotos();
      self.showMechanism();
      self.notice("");
      self.status("草稿已清除。", "info");
    });
  };

  DraftForm.prototype.addFiles = function (input) {
    var self = this, files = Array.prototype.slice.call(input.files || []);
    input.value = ""; // the photos travel with the draft, not with the form
    if (self.photos.length + files.length > self.maxPhotos) {
      self.status("最多 " + self.maxPhotos + " 张照片。", "bad");
      files = files.slice(0, Math.max(0, self.maxPhotos - self.photos.length));
    }
    Promise.all(files.map(shrink)).then(function (list) {
      self.photos = self.photos.concat(list);
      self.renderPhotos();
      return self.saveNow();
    });
  };

  DraftForm.prototype.renderPhotos = function () {
    var list = this.el("#photo-list");
    if (!list) { return; }
    list.innerHTML = "";
    this.photos.forEach(function (p, i) {
      var li = document.createElement("li");
      if (p.dataUrl) {
        var img = document.createElement("img");
        img.src = p.dataUrl;
        img.alt = "照片 " + (i + 1) + "：" + p.name;
        li.appendChild(img);
      } else {
        li.appendChild(document.createTextNode(p.name));
      }
      var state = document.createElement("span");
      state.className = p.id ? "muted" : "pending";
      state.textContent = p.id ? "已上传" : "待上传";
      li.appendChild(state);
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "btn secondary";
      btn.setAttribute("data-remove-photo", String(i));
      btn.textContent = "删除";
      btn.setAttribute("aria-label", "删除照片 " + (i + 1));
      li.appendChild(btn);
      list.appendChild(li);
    });
  };

  DraftForm.prototype.uploadPending = function () {
    var self = this;
    return this.photos.filter(function (p) { return !p.id && p.dataUrl; }).reduce(function (chain, p) {
      return chain.then(function () {
        var body = new FormData();
        body.append("file", toBlob(p.dataUrl), p.name);
        return fetch(self.photoUrl, {
          method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(self.form) }
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) {
            if (r.status === 201) { p.id = data.id; return self.saveNow(); }
            var err = new Error("照片「" + p.name + "」未能上传：" +
              ((data.errors || []).map(function (e) { return e.message; }).join("；") || data.message || r.status));
            err.server = true;
            throw err;
          });
        });
      });
    }, Promise.resolve());
  };

  DraftForm.prototype.send = function () {
    var self = this, form = this.form, button = this.el("[type=submit]");
    button.disabled = true;
    self.status("正在提交…", "info");
    self.saveNow().then(function () { return self.uploadPending(); }).then(function () {
      var body = new FormData(form);
      body.delete("photos");
      body.delete("attachments");
      self.photos.forEach(function (p) { if (p.id) { body.append("attachments", p.id); } });
      return fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrfToken(form) }
      });
    }).then(function (r) {
      return r.text().then(function (html) { return { r: r, html: html }; });
    }).then(function (res) {
      var r = res.r;
      if (r.redirected && /\/login\//.test(r.url)) {
        var e = new Error("登录已过期：请在新标签页重新登录后再点「提交上报」，草稿仍保存在本机。");
        e.server = true;
        throw e;
      }
      if (r.status === 201 || (r.status === 200 && res.html.indexOf('id="report-result"') >= 0)) {
        clearTimeout(self.timer);
        self.timer = null;
        return drafts.remove(self.key).then(function () {
          self.area.innerHTML = res.html;
          var result = self.area.querySelector("#report-result");
          if (result) { result.focus(); }
        });
      }
      if ([400, 403, 409, 422].indexOf(r.status) >= 0 && res.html.indexOf("<form") >= 0) {
        self.area.innerHTML = res.html; // the form with the errors; the draft stays until a send succeeds
        var again = new DraftForm(self.area.querySelector("form"), false);
        var alertEl = again.form.querySelector('[role="alert"]:not([hidden])');
        if (alertEl) { alertEl.setAttribute("tabindex", "-1"); alertEl.focus(); }
        return;
      }
      var err = new Error("服务器出错（" + r.status + "），案件可能没有提交成功。草稿仍保存在本机，请稍后再试。");
      err.server = true;
      throw err;
    }).catch(function (err) {
      button.disabled = false;
      if (err && err.server) { self.status(err.message, "bad"); return; }
      self.status("网络连接中断，案件尚未提交。草稿（含照片）已保存在本机，恢复网络后再点「提交上报」即可，不会重复上报。", "bad");
    });
  };

  document.querySelectorAll("form[data-draft-key]").forEach(function (form) { new DraftForm(form, true); });
})();
