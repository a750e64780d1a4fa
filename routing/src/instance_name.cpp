#include "pasokh/routing/instance_name.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <random>

namespace pasokh::routing {

std::string instance_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device rd;
  return fmt::format("{}-{}-{:06x}", host[0] ? host : "host", getpid(), rd() & 0xffffff);
}

}  // namespace pasokh::routing
