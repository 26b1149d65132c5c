#include "services/gateway/access_plan.h"

namespace granary::gateway {
namespace {

thread_local NoWaitScope* current_scope = nullptr;

}  // namespace

NoWaitScope::NoWaitScope() : outer_(current_scope) { current_scope = this; }

NoWaitScope::~NoWaitScope() {
  current_scope = outer_;
  if (outer_ != nullptr && missed_) outer_->missed_ = true;
}

NoWaitScope* NoWaitScope::Current() { return current_scope; }

}  // namespace granary::gateway
