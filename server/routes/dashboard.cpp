// GET /, /dashboard.js, /dashboard.css: the dashboard page; /reports/YYYY-Www and /report.js:
// the printable weekly report; /pages.js: what both share. Embedded in the binary.
//
// The pages draw everything themselves (inline SVG, tables) from the stats API; nothing is
// fetched from anywhere else, and the Content-Security-Policy says so to the browser.
#include "server/dashboard/assets.hpp"
#include "server/routes/routes.hpp"

namespace dollhouse::server {

Response handle_dashboard(ServerContext&, const Request&, std::string_view asset) {
  Response r;
  if (asset == "/dashboard.js") {
    r.content_type = "text/javascript; charset=utf-8";
    r.body = std::string(dashboard_js());
  } else if (asset == "/report.js" || asset == "/pages.js") {
    r.content_type = "text/javascript; charset=utf-8";
    r.body = std::string(asset == "/report.js" ? report_js() : pages_js());
  } else if (asset == "/dashboard.css") {
    r.content_type = "text/css; charset=utf-8";
    r.body = std::string(dashboard_css());
  } else {
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(asset == "/reports/" ? report_html() : dashboard_html());
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; "
                           "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'");
  }
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace dollhouse::server
