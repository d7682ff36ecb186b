// Registration: prefill the time zone and the country from the browser (a new account
// in Shanghai should not start on Rome time). Only fields the person has not chosen yet
// are touched; without JavaScript the server's guess by language stays.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form || form.dataset.submitted === "1") { return; }
  var zone = form.querySelector("select[name=timezone]");
  var country = form.querySelector("select[name=country]");
  function has(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && tz && has(zone, tz)) { zone.value = tz; }
  } catch (e) { /* an old browser: keep the server's guess */ }
  var langs = navigator.languages || [navigator.language || ""];
  for (var i = 0; i < langs.length; i++) {
    var region = (langs[i].split("-")[1] || "").toUpperCase();
    if (country && !country.value && region.length === 2 && has(country, region)) { country.value = region; break; }
  }
})();
