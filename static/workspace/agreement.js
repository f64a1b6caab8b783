// The Agreement page: a GET only reads. When its figures are out of date, the page submits its
// "Compute" form (a POST) itself, as if the user had pressed the button.
const form = document.getElementById("wb-agreement-compute");
if (form) form.requestSubmit();
