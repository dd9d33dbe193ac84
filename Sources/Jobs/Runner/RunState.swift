/// The mutable state of a run shared by its user tasks: why it stopped, if it did.
actor RunState {
    private(set) var stopped: (reason: String, status: ExitStatus)?

    func stop(_ reason: String, status: ExitStatus) {
        // A configuration fault (78) outranks a quota stop (75).
        if stopped == nil || (status == .configuration && stopped?.status != .configuration) { stopped = (reason, status) }
    }

    var isStopped: Bool { stopped != nil }
}
