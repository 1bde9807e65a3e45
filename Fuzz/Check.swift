/// A property every input must have; unlike `precondition`, it says which in optimised builds.
func check(_ holds: Bool, _ message: @autoclosure () -> String) {
    if !holds { fatalError(message()) }
}
