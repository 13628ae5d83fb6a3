package capture

import (
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

// dueOutput is an output whose periodic work is due at a given time.
type dueOutput struct{ due time.Time }

func (o dueOutput) writeBatch([]nflog.Event) error { return nil }
func (o dueOutput) tick() error                    { return nil }
func (o dueOutput) nextTick() time.Time            { return o.due }
func (o dueOutput) rotateNow() error               { return nil }
func (o dueOutput) close() error                   { return nil }

// The tick loop sleeps until the first output is due, within its bounds,
// rather than waking at a fixed pace.
func TestUntilTick(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		outputs  []output
		min, max time.Duration
	}{
		{"nothing due ever", []output{dueOutput{}}, maxTickWait, maxTickWait},
		{"no outputs", nil, maxTickWait, maxTickWait},
		{"due in 400 ms", []output{dueOutput{now.Add(400 * time.Millisecond)}}, 300 * time.Millisecond, 400 * time.Millisecond},
		{"the first of two", []output{dueOutput{now.Add(900 * time.Millisecond)}, dueOutput{now.Add(200 * time.Millisecond)}}, 100 * time.Millisecond, 200 * time.Millisecond},
		{"overdue", []output{dueOutput{now.Add(-time.Second)}}, minTickWait, minTickWait},
		{"far off", []output{dueOutput{now.Add(time.Hour)}}, maxTickWait, maxTickWait},
	} {
		c := &Capture{outputs: tc.outputs}
		if d := c.untilTick(); d < tc.min || d > tc.max {
			t.Errorf("%s: sleeps %v, want %v to %v", tc.name, d, tc.min, tc.max)
		}
	}
}
