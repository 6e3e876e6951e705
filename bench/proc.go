package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc: USER_HZ, which is 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// processCPU returns the user plus system CPU time a process has used,
// from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in brackets may contain spaces, so the fields are
	// counted from the closing bracket. utime and stime are the 14th and
	// 15th fields of the line, which are the 12th and 13th after it.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: invalid utime or stime", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// machineCPU returns the busy CPU time of the whole machine, summed over
// its cores, from the first line of /proc/stat. Idle and iowait are not busy.
func machineCPU() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var busy int64
	for i, field := range fields[1:] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
		}
		// Columns 4 and 5 are idle and iowait. Guest time (9 and 10) is
		// already counted in user and nice.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// memoryStatus returns a field of /proc/PID/status in bytes, such as
// VmHWM (peak resident set) or VmRSS (current resident set).
func memoryStatus(pid int, field string) (int64, error) {
	return kilobyteField(fmt.Sprintf("/proc/%d/status", pid), field)
}

// memoryTotal returns the machine's memory in bytes, MemTotal of /proc/meminfo.
func memoryTotal() (int64, error) {
	return kilobyteField("/proc/meminfo", "MemTotal")
}

// kilobyteField reads a "Field: N kB" line of a /proc file, in bytes.
func kilobyteField(path, field string) (int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		value, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		parts := strings.Fields(value)
		if len(parts) != 2 || parts[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q in %s", field, line, path)
		}
		kb, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected %s line %q in %s", field, line, path)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}

// loadAverage returns the 1-minute load average from /proc/loadavg.
func loadAverage() (float64, error) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 0, fmt.Errorf("unexpected /proc/loadavg %q", raw)
	}
	return strconv.ParseFloat(fields[0], 64)
}
