#include "libs/server/echo_service_fixture.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::server::EchoDefinition());
}
