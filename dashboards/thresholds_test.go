package dashboards

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/cretoai/monitor/alerting"
)

// TestThresholdsFromAlerting checks the panels that draw an alert's
// threshold draw exactly the value in alerting/thresholds.go.
func TestThresholdsFromAlerting(t *testing.T) {
	cases := []struct {
		uid, panel string
		want       float64
	}{
		{UIDOverview, "Reliable nodes", 1 - alerting.UnreliableShareHigh},
		{UIDOverview, "Mean reputation", alerting.ReputationCritical},
		{UIDOverview, "Mean reputation", alerting.ReputationLow},
		{UIDOverview, "Since last epoch", alerting.RewardsStalledSeconds},
		{UIDOverview, "Distribution efficiency", alerting.DistributionEfficiencyLow},
		{UIDReputation, "Unreliable share", alerting.UnreliableShareHigh},
		{UIDReputation, "Score per node", alerting.ReputationCritical},
		{UIDReputation, "Score per node", alerting.ReputationLow},
		{UIDReputation, "Mean score change per hour", -alerting.MeanReputationDropPerHour},
		{UIDReputation, "Violations per hour, top 10 nodes", alerting.ViolationsPerNodeHigh},
		{UIDReputation, "Time since last event, top 10 nodes", alerting.NodeSilentSeconds},
		{UIDReputation, "Silent nodes", 1},
		{UIDStake, "Unbonding / bonded", alerting.WithdrawalWaveRatio},
		{UIDStake, "Bonded stake change per hour", -alerting.BondedStakeDropRatio},
		{UIDRewards, "Payout failure ratio", alerting.PayoutFailureRatioHigh},
		{UIDRewards, "Distribution efficiency", alerting.DistributionEfficiencyLow},
		{UIDRewards, "Since last epoch", alerting.RewardsStalledSeconds},
		{UIDNodeDetail, "Score", alerting.ReputationLow},
		{UIDNodeDetail, "Since last event", alerting.NodeSilentSeconds},
		{UIDNodeDetail, "Violations in range", alerting.ViolationsPerNodeHigh},
		{UIDService, "5xx ratio", alerting.APIErrorRatioHigh},
		{UIDService, "5xx ratio by route", alerting.APIErrorRatioHigh},
		{UIDService, "p99 latency", alerting.APILatencyP99Seconds},
		{UIDService, "Latency by route", alerting.APILatencyP99Seconds},
	}
	steps := map[[2]string][]float64{}
	for _, f := range committedDashboards(t) {
		for _, p := range f.dash.Panels {
			var fc struct {
				Defaults struct {
					Thresholds struct {
						Steps []struct {
							Value *float64 `json:"value"`
						} `json:"steps"`
					} `json:"thresholds"`
				} `json:"defaults"`
			}
			if len(p.FieldConfig) > 0 {
				if err := json.Unmarshal(p.FieldConfig, &fc); err != nil {
					t.Fatal(err)
				}
			}
			key := [2]string{f.dash.UID, p.Title}
			for _, s := range fc.Defaults.Thresholds.Steps {
				if s.Value != nil {
					steps[key] = append(steps[key], *s.Value)
				}
			}
		}
	}
	for _, tc := range cases {
		got, ok := steps[[2]string{tc.uid, tc.panel}]
		found := false
		for _, v := range got {
			if math.Abs(v-tc.want) < 1e-9 {
				found = true
			}
		}
		if !ok || !found {
			t.Errorf("%s %q: threshold steps %v lack %g from alerting/thresholds.go", tc.uid, tc.panel, got, tc.want)
		}
	}
}
