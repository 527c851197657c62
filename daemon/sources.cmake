# The daemon's sources (daemon/CMakeLists.txt): common ones, then the platform files chosen by
# suffix. Paths are relative to daemon/.
set(DOLLHOUSE_DAEMON_SOURCES
  apps.cpp
  commands/choices.cpp
  commands/command_table.cpp
  commands/config.cpp
  commands/consent.cpp
  commands/delete.cpp
  commands/export.cpp
  commands/flush.cpp
  commands/hello.cpp
  commands/show.cpp
  commands/status.cpp
  commands/sync.cpp
  commands/track.cpp
  commands/usage.cpp
  config.cpp
  connection.cpp
  crash_records.cpp
  consent.cpp
  consent_state.cpp
  daemon.cpp
  dispatcher.cpp
  event_stamp.cpp
  listener.cpp
  logging.cpp
  maintenance.cpp
  platform_info.cpp
  run_daemon.cpp
  session.cpp
  status_report.cpp
  storage_channel.cpp
  storage/sqlite_event_store.cpp
  storage/sqlite_event_store_upload.cpp
  storage/storage_worker.cpp
  upload/gzip.cpp
  upload/upload_policy.cpp
  upload/uploader.cpp
  usage_rollup.cpp)
set(DOLLHOUSE_DAEMON_POSIX_SOURCES instance_lock_posix.cpp platform_info_posix.cpp
    process_setup_posix.cpp service_posix.cpp upload/http_exchange_posix.cpp)
set(DOLLHOUSE_DAEMON_WINDOWS_SOURCES instance_lock_windows.cpp platform_info_windows.cpp
    process_setup_windows.cpp service_windows.cpp upload/http_exchange_windows.cpp)
