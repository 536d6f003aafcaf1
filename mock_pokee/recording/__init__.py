"""Recording a deployment into scenarios (``mock-pokee record``): a proxy that passes every
request through and writes each turn and each response it saw as a scenario file."""
