package cfapi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// endlessPages serves one new item per page forever and claims a million
// pages: only the page limit can end a read of it.
func endlessPages(requests *int) pageFetcher[int] {
	return func(_ context.Context, page int) ([]int, *resultInfo, error) {
		*requests++
		return []int{page}, &resultInfo{Page: page, PerPage: 1, Count: 1, TotalCount: 1e6, TotalPages: 1e6}, nil
	}
}

func keepAll(page, _ []int) []int { return page }

func TestCollectPagesStopsAtTheLimit(t *testing.T) {
	requests := 0
	got, err := collectPages(context.Background(), "list", "items", 5, endlessPages(&requests), keepAll)
	if !errors.Is(err, ErrTooManyPages) || got != nil {
		t.Fatalf("collectPages = %v, %v; want no items and ErrTooManyPages", got, err)
	}
	if requests != 5 {
		t.Errorf("%d requests, want exactly the limit of 5", requests)
	}
	for _, want := range []string{"list failed", "gave up after 5 pages (5 items)", "reported 1000000 pages", "narrow the request"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestCollectPagesReachesTheLimitExactly(t *testing.T) {
	fetch := func(_ context.Context, page int) ([]int, *resultInfo, error) {
		return []int{page}, &resultInfo{Page: page, TotalPages: 5}, nil
	}
	got, err := collectPages(context.Background(), "list", "items", 5, fetch, keepAll)
	if err != nil || !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("collectPages = %v, %v; want pages 1..5 and no error", got, err)
	}
}

func TestCollectPagesWithoutResultInfoReadsOnePage(t *testing.T) {
	requests := 0
	fetch := func(_ context.Context, _ int) ([]int, *resultInfo, error) {
		requests++
		return []int{1, 2, 3}, nil, nil
	}
	got, err := collectPages(context.Background(), "list", "items", MaxPages, fetch, keepAll)
	if err != nil || !slices.Equal(got, []int{1, 2, 3}) || requests != 1 {
		t.Fatalf("collectPages = %v, %v after %d requests; want [1 2 3] from 1 request", got, err, requests)
	}
}

// TestCollectPagesRefusesAPartialList: a read that ends short of the
// server's total_count, or on a repeated page with no total_count to vouch
// for it, is an error and returns nothing; a repeat after every counted
// item is not.
func TestCollectPagesRefusesAPartialList(t *testing.T) {
	for _, tc := range []struct {
		name       string
		totalCount int
		pages      [][]int // page n serves pages[n-1], the last one again past the end
		want       []int
		wantErr    string
	}{
		{name: "repeated page without total_count", pages: [][]int{{1, 2}},
			wantErr: "page 2 repeated items already read, and the API reported no total_count to show that the 2 read were all"},
		{name: "short of total_count", totalCount: 5, pages: [][]int{{1, 2}, {3}, {}},
			wantErr: "it ended after page 3 with 3 items, but the API reported 5 (result_info.total_count)"},
		{name: "repeat after every counted item", totalCount: 2, pages: [][]int{{1, 2}}, want: []int{1, 2}},
		{name: "every page without total_count", pages: [][]int{{1, 2}, {3}, {4}}, want: []int{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetch := func(_ context.Context, page int) ([]int, *resultInfo, error) {
				items := tc.pages[min(page, len(tc.pages))-1]
				return items, &resultInfo{Page: page, TotalCount: tc.totalCount, TotalPages: 3}, nil
			}
			seen := map[int]bool{}
			unseen := func(page, _ []int) []int {
				var out []int
				for _, v := range page {
					if !seen[v] {
						seen[v] = true
						out = append(out, v)
					}
				}
				return out
			}
			got, err := collectPages(context.Background(), "list", "items", MaxPages, fetch, unseen)
			if tc.wantErr == "" {
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("collectPages = %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrIncompleteListing) || got != nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("collectPages = %v, %v; want no items and an incomplete listing error saying %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestDecodeResultInfo(t *testing.T) {
	info, err := decodeResultInfo(`{"page":2,"per_page":50,"count":0,"total_count":70,"total_pages":2}`)
	if err != nil || info == nil || *info != (resultInfo{Page: 2, PerPage: 50, TotalCount: 70, TotalPages: 2}) {
		t.Fatalf("decodeResultInfo = %+v, %v", info, err)
	}
	// The raw result_info of an answer without one, and of one with null.
	for _, raw := range []string{"", "null"} {
		if info, err := decodeResultInfo(raw); info != nil || err != nil {
			t.Errorf("decodeResultInfo(%q) = %+v, %v; want nil, nil", raw, info, err)
		}
	}
	if _, err := decodeResultInfo(`{"page":"one"}`); err == nil {
		t.Error("decodeResultInfo accepted a malformed result_info")
	}
}
