# Disk trouble (a small tmpfs filled and freed under the daemon), hostile local input (idle
# floods, oversize and malformed lines, slow and non-reading clients) and who may talk to the
# daemon (another uid, unsafe directories, no abstract socket). They mount, change uid and raise
# descriptor limits, so they need root; without it they skip and say why.
dollhouse_add_fault_test(disk_trouble_test
  SOURCES disk_trouble_test.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS}
  TIMEOUT 300)
dollhouse_add_fault_test(hostile_input_test
  SOURCES hostile_input_test.cpp hostile_clients.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS}
  TIMEOUT 400
  RUN_SERIAL)
dollhouse_add_fault_test(access_test
  SOURCES access_test.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS}
  TIMEOUT 240)
