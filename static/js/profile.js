// Profile: an IIN is issued by Kazakhstan, so entering one offers Kazakhstan as the country.
(function () {
  "use strict";
  var iin = document.querySelector('[name="iin"]');
  var country = document.querySelector('[name="country"]');
  if (!iin || !country) return;
  iin.addEventListener("input", function () {
    if (/^\s*\d{12}\s*$/.test(iin.value) && !country.value) country.value = "KZ";
  });
})();
