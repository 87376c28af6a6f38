// Baraza web form: optional enhancements. Every page works without this script; with it,
// (1) answers that other questions of the same page depend on refresh the page from the server
// (which alone evaluates the form), and (2) geopoints can be filled from the device's position.
(function () {
  "use strict";
  var form = document.getElementById("fill");
  if (!form) return;
  var refresh = form.querySelector('button[name="_action"][value="refresh"]');

  function submitRefresh(anchor) {
    if (!refresh) return;
    if (anchor) form.action = form.action.split("#")[0] + "#" + anchor;
    if (form.requestSubmit) form.requestSubmit(refresh);
    else refresh.click();
  }

  var live = form.querySelectorAll("[data-live] input, [data-live] select, [data-live] textarea");
  Array.prototype.forEach.call(live, function (el) {
    el.addEventListener("change", function () {
      submitRefresh(el.id || "");
    });
  });

  if (!navigator.geolocation) return;
  var geos = form.querySelectorAll("fieldset.geo");
  Array.prototype.forEach.call(geos, function (fs) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = fs.getAttribute("data-locate") || "Use my location";
    function set(part, v) {
      var i = fs.querySelector('input[name$="#' + part + '"]');
      if (i && v !== null && v !== undefined) i.value = Math.round(v * 1e7) / 1e7;
    }
    b.addEventListener("click", function () {
      b.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (p) {
          set("lat", p.coords.latitude);
          set("lon", p.coords.longitude);
          set("alt", p.coords.altitude);
          set("acc", p.coords.accuracy);
          b.disabled = false;
        },
        function () {
          b.disabled = false;
          b.textContent = fs.getAttribute("data-locate-failed") || "Position unavailable";
        },
        { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 }
      );
    });
    fs.appendChild(b);
  });
})();
