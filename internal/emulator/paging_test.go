package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// pagedFixture is an emulator in one paging mode holding 120 certificates
// (three pages of 50) and, on the first of them, 45 associations (three
// pages of 20).
type pagedFixture struct {
	client    *apiClient
	ids       []string
	assoc     []Association
	assocPath string
}

func newPagedFixture(t *testing.T, mode PagingMode) pagedFixture {
	t.Helper()
	opts := testOptions()
	opts.Paging = mode
	emu := startEmulator(t, opts)
	f := pagedFixture{client: newClient(t, emu), ids: seed(t, emu, testAccount, 120, TypeCustom)}
	for i := range 45 {
		f.assoc = append(f.assoc, Association{Service: fmt.Sprintf("service-%d", i), Status: "active"})
	}
	emu.SetAssociations(testAccount, f.ids[0], f.assoc)
	f.assocPath = certPath(testAccount, f.ids[0]) + "/associations"
	return f
}

// certPage fetches one list page and returns its ids and result_info.
func (f pagedFixture) certPage(t *testing.T, query string) ([]string, resultInfo) {
	t.Helper()
	r := f.client.do(http.MethodGet, certsPath(testAccount)+"?"+query, nil)
	wantOK(t, r)
	var ids []string
	for _, c := range r.certificates(t) {
		ids = append(ids, c.ID)
	}
	if r.env.ResultInfo == nil {
		t.Fatalf("?%s: no result_info: %s", query, r.raw)
	}
	return ids, *r.env.ResultInfo
}

func (f pagedFixture) assocPage(t *testing.T, query string) ([]Association, resultInfo) {
	t.Helper()
	r := f.client.do(http.MethodGet, f.assocPath+"?"+query, nil)
	wantOK(t, r)
	var assoc []Association
	if err := json.Unmarshal(r.env.Result, &assoc); err != nil || assoc == nil {
		t.Fatalf("?%s: result is not a list of associations: %v: %s", query, err, r.raw)
	}
	if r.env.ResultInfo == nil {
		t.Fatalf("?%s: no result_info: %s", query, r.raw)
	}
	return assoc, *r.env.ResultInfo
}

func TestPagingIgnored(t *testing.T) {
	f := newPagedFixture(t, PagingIgnored)
	for _, query := range []string{"", "page=2", "page=3&per_page=10", "page=99&per_page=1000"} {
		ids, info := f.certPage(t, query)
		if !slices.Equal(ids, f.ids[:50]) {
			t.Errorf("list ?%s: got %d certificates, want the first page of 50 in upload order", query, len(ids))
		}
		if want := (resultInfo{Page: 1, PerPage: 50, Count: 50, TotalCount: 120, TotalPages: 3}); info != want {
			t.Errorf("list ?%s: result_info %+v, want %+v", query, info, want)
		}

		assoc, info := f.assocPage(t, query)
		if !slices.Equal(assoc, f.assoc[:20]) {
			t.Errorf("associations ?%s: got %d, want the first page of 20", query, len(assoc))
		}
		if want := (resultInfo{Page: 1, PerPage: 20, Count: 20, TotalCount: 45, TotalPages: 3}); info != want {
			t.Errorf("associations ?%s: result_info %+v, want %+v", query, info, want)
		}
	}
	// Ignoring the parameters is not accepting anything.
	wantError(t, f.client.do(http.MethodGet, certsPath(testAccount)+"?page=0", nil), http.StatusBadRequest, CodeInvalidQuery)
}

func TestPagingInconsistentTotals(t *testing.T) {
	f := newPagedFixture(t, PagingInconsistentTotals)
	for page, want := range map[int][]string{1: f.ids[:50], 2: f.ids[50:100], 3: f.ids[100:], 4: nil, 6: nil} {
		ids, info := f.certPage(t, fmt.Sprintf("page=%d&per_page=50", page))
		if !slices.Equal(ids, want) {
			t.Errorf("list page %d: %d certificates, want %d", page, len(ids), len(want))
		}
		if wantInfo := (resultInfo{Page: page, PerPage: 50, Count: len(want), TotalCount: 300, TotalPages: 6}); info != wantInfo {
			t.Errorf("list page %d: result_info %+v, want %+v", page, info, wantInfo)
		}
	}
	for page, want := range map[int][]Association{1: f.assoc[:20], 3: f.assoc[40:], 4: nil} {
		assoc, info := f.assocPage(t, fmt.Sprintf("page=%d", page))
		if !slices.Equal(assoc, want) {
			t.Errorf("associations page %d: %d entries, want %d", page, len(assoc), len(want))
		}
		if wantInfo := (resultInfo{Page: page, PerPage: 20, Count: len(want), TotalCount: 120, TotalPages: 6}); info != wantInfo {
			t.Errorf("associations page %d: result_info %+v, want %+v", page, info, wantInfo)
		}
	}

	// An empty collection still claims a page, which comes back empty.
	r := f.client.do(http.MethodGet, certsPath(otherAccount), nil)
	wantOK(t, r)
	if want := (resultInfo{Page: 1, PerPage: 50, TotalCount: 50, TotalPages: 1}); string(r.env.Result) != "[]" || *r.env.ResultInfo != want {
		t.Errorf("empty account: result %s, result_info %+v, want [] and %+v", r.env.Result, *r.env.ResultInfo, want)
	}
}

func TestPagingShrinkingTotals(t *testing.T) {
	f := newPagedFixture(t, PagingShrinkingTotals)
	for page, want := range map[int][]string{1: f.ids[:50], 2: f.ids[50:100], 3: f.ids[100:], 4: nil} {
		ids, info := f.certPage(t, fmt.Sprintf("page=%d", page))
		if !slices.Equal(ids, want) {
			t.Errorf("list page %d: %d certificates, want %d", page, len(ids), len(want))
		}
		if wantInfo := (resultInfo{Page: page, PerPage: 50, Count: len(want), TotalCount: 120, TotalPages: 1}); info != wantInfo {
			t.Errorf("list page %d: result_info %+v, want %+v", page, info, wantInfo)
		}
	}
	assoc, info := f.assocPage(t, "page=2")
	if !slices.Equal(assoc, f.assoc[20:40]) {
		t.Errorf("associations page 2: %d entries, want the second 20", len(assoc))
	}
	if want := (resultInfo{Page: 2, PerPage: 20, Count: 20, TotalCount: 45, TotalPages: 1}); info != want {
		t.Errorf("associations page 2: result_info %+v, want %+v", info, want)
	}

	r := f.client.do(http.MethodGet, certsPath(otherAccount), nil)
	wantOK(t, r)
	if want := (resultInfo{Page: 1, PerPage: 50}); *r.env.ResultInfo != want {
		t.Errorf("empty account: result_info %+v, want %+v", *r.env.ResultInfo, want)
	}
}

// TestPagingHonoredIsTheDefault guards the zero value: existing callers
// that never set Paging keep truthful pages.
func TestPagingHonoredIsTheDefault(t *testing.T) {
	f := newPagedFixture(t, PagingHonored)
	ids, info := f.certPage(t, "page=3&per_page=50")
	if !slices.Equal(ids, f.ids[100:]) {
		t.Errorf("page 3: %d certificates, want the last 20", len(ids))
	}
	if want := (resultInfo{Page: 3, PerPage: 50, Count: 20, TotalCount: 120, TotalPages: 3}); info != want {
		t.Errorf("page 3: result_info %+v, want %+v", info, want)
	}
}

func TestParsePagingMode(t *testing.T) {
	for _, m := range []PagingMode{PagingHonored, PagingIgnored, PagingInconsistentTotals, PagingShrinkingTotals} {
		got, err := ParsePagingMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParsePagingMode(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	if _, err := ParsePagingMode("random"); err == nil {
		t.Error("ParsePagingMode accepted an unknown name")
	}
	if got := PagingMode(9).String(); got != "PagingMode(9)" {
		t.Errorf("String of an unknown mode = %q", got)
	}
	if err := (Options{APIToken: "t", Paging: 9}).Validate(); err == nil {
		t.Error("Validate accepted an unknown paging mode")
	}
	if err := (Options{APIToken: "t", Paging: PagingShrinkingTotals}).Validate(); err != nil {
		t.Errorf("Validate refused a known paging mode: %v", err)
	}
}
