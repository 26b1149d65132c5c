#include "services/materializer/materializer_service.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::materializer::Definition());
}
