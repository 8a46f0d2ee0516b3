package trainer

import (
	"math/rand"
	"strings"
	"testing"
)

func TestSecretRulesEachKindAndNegatives(t *testing.T) {
	sc, err := newSecretScanner()
	if err != nil {
		t.Fatal(err)
	}
	s := plantedSecrets()
	cases := map[string]string{
		"url-password": `DSN = "mysql://root:` + s["url-password"] + `@localhost/db"`,
		"password":     `password = "` + s["password"] + `"`,
		"aws-key-id":   `key_id = "` + s["aws-key-id"] + `"`,
		"aws-secret":   `AWS_SECRET_ACCESS_KEY = "` + s["aws-secret"] + `"`,
		"github":       `token = "` + s["github"] + `"`,
		"huggingface":  `login("` + s["huggingface"] + `")`,
		"openai":       `client = OpenAI(api_key="` + s["openai"] + `")`,
		"slack":        `SLACK = "` + s["slack"] + `"`,
		"private-key":  "KEY = '''" + s["private-key"] + "'''",
	}
	for kind, src := range cases {
		fs := sc.scan(src)
		got := redact(src, fs)
		if strings.Contains(got, s[kind]) {
			t.Errorf("%s: not redacted: %s (findings %d)", kind, got, len(fs))
		}
		if !strings.Contains(got, "<") {
			t.Errorf("%s: no placeholder: %s", kind, got)
		}
	}
	rng := rand.New(rand.NewSource(1))
	negatives := []string{
		`token_type = "bearer"`,
		`sort_key = "created_at"`,
		`password = os.environ["DB_PASSWORD"]`,
		`password = "<your password here>"`,
		`url = "https://example.com/path"`,
		`API_KEY_ENV = "OPENAI_API_KEY"`,
		`name = "` + fake(rng, alnum, 30) + `"`,
	}
	for _, src := range negatives {
		if fs := sc.scan(src); len(fs) > 0 {
			t.Errorf("false positive on %s: rule %s", src, fs[0].Rule)
		}
	}
}

func TestMinHashEstimatesJaccard(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	words := make([]string, 400)
	for i := range words {
		words[i] = fake(rng, "abcdefghij", 6)
	}
	base := strings.Join(words, " ")
	// change every k-th word: the true Jaccard of 5-gram shingle sets
	for _, k := range []int{50, 10, 3} {
		changed := append([]string(nil), words...)
		for i := 0; i < len(changed); i += k {
			changed[i] = "zz" + changed[i]
		}
		other := strings.Join(changed, " ")
		truth := trueJaccard(base, other)
		est := jaccardEstimate(signature(base), signature(other))
		if d := est - truth; d > 0.08 || d < -0.08 {
			t.Errorf("k=%d: estimate %.3f, true %.3f", k, est, truth)
		}
		pairs := nearDuplicatePairs([][]uint64{signature(base), signature(other)})
		if (truth >= 0.8 && len(pairs) != 1) || (truth <= 0.55 && len(pairs) != 0) {
			t.Errorf("k=%d: true Jaccard %.3f, pairs %v", k, truth, pairs)
		}
	}
}

func trueJaccard(a, b string) float64 {
	set := func(s string) map[string]bool {
		toks := reToken.FindAllString(s, -1)
		m := map[string]bool{}
		for i := 0; i+shingleSize <= len(toks); i++ {
			m[strings.Join(toks[i:i+shingleSize], "\x00")] = true
		}
		return m
	}
	x, y := set(a), set(b)
	inter := 0
	for k := range x {
		if y[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(x)+len(y)-inter)
}

func TestGPT2Split(t *testing.T) {
	// expected pieces from Hugging Face tokenizers' ByteLevel pre-tokenizer
	// (pre_tokenize_str) on the same strings
	cases := map[string]string{
		"Implement `x`\n\nModule": "Implement| `|x|`|\n|\n|Module",
		"a  b   c\n\n\n  d":       "a| | b|  | c|\n\n\n | d",
		"user's it's don't":       "user|'s| it|'s| don|'t",
		"x = 1\n    y = 2":        "x| =| 1|\n   | y| =| 2",
		"tail  ":                  "tail|  ",
	}
	for in, want := range cases {
		if got := strings.Join(gpt2Split(in), "|"); got != want {
			t.Errorf("gpt2Split(%q) = %q, want %q", in, got, want)
		}
	}
}
