// The only Bootstrap plugin the site uses: the phone-width roadmap menu (offcanvas),
// with its data-bs-toggle / data-bs-dismiss behaviour. Built by `make bootstrap`.
import 'bootstrap/js/src/offcanvas.js'
