// The dashboard's files (dashboard/index.html, dashboard.css, dashboard.js), the weekly report
// page's (report.html, report.js) and what both pages share (pages.js), embedded in the binary at
// build time by dashboard/embed.cmake. Immutable; safe from any thread.
#pragma once

#include <string_view>

namespace dollhouse::server {

std::string_view dashboard_html();
std::string_view dashboard_css();
std::string_view dashboard_js();
std::string_view pages_js();
std::string_view report_html();
std::string_view report_js();

}  // namespace dollhouse::server
