package conformance

// Checks returns every check in the order a run executes them. Checks
// that only judge what earlier ones observed come last, and so do the
// limits checks, which use up the key's quota.
func Checks() []Check {
	var all []Check
	for _, group := range [][]Check{
		systemChecks(),
		createChecks(),
		getChecks(),
		updateChecks(),
		deleteChecks(),
		listChecks(),
		searchChecks(),
		batchChecks(),
		exportChecks(),
		errorChecks(),
		authChecks(),
		isolationChecks(),
		ticketChecks(),
		streamConnectChecks(),
		streamLiveChecks(),
		limitChecks(),
		clusterChecks(),
		webhookChecks(),
		passiveChecks(),
	} {
		all = append(all, group...)
	}
	// Limits last (they exhaust quotas), passive judges after everything.
	return orderChecks(all)
}

// orderChecks moves limits checks, then passive checks, to the end,
// keeping the relative order otherwise.
func orderChecks(all []Check) []Check {
	rank := func(c Check) int {
		switch {
		case c.ID == "ERR-5XX-001" || c.ID == "STREAM-ERROR-001":
			return 3
		case c.ID == "LIM-RATE-001":
			return 2
		case c.Profile == Limits:
			return 1
		}
		return 0
	}
	var out []Check
	for r := 0; r <= 3; r++ {
		for _, c := range all {
			if rank(c) == r {
				out = append(out, c)
			}
		}
	}
	return out
}
