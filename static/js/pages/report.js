// The weekly report page: its Print button (a module, as the CSP allows no inline handlers).
document.querySelector('#print-report').addEventListener('click', () => window.print());
