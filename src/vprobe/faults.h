/*
 * Fault injection (VPROBE_FAULT): a comma-separated list of
 *   unplug@N    from the Nth command packet on, the probe is gone
 *   reset@N     target system reset when the Nth command packet arrives
 *   powerloss@N the Nth flash program operation loses power half-way
 *   wait@N:K    from the Nth command packet on, the next K memory accesses
 *               answer WAIT
 * N counts command packets (or program operations) from 1.
 */
#ifndef STOTP_VPROBE_FAULTS_H
#define STOTP_VPROBE_FAULTS_H

#include <stddef.h>
#include <stdint.h>

enum vp_fault_kind { VP_FAULT_UNPLUG, VP_FAULT_RESET, VP_FAULT_POWERLOSS, VP_FAULT_WAIT };

#define VP_FAULTS_MAX 16

typedef struct vp_fault {
	enum vp_fault_kind kind;
	uint64_t n;
	uint64_t k;   /* wait: how many accesses */
} vp_fault;

typedef struct vp_faults {
	vp_fault list[VP_FAULTS_MAX];
	size_t count;
} vp_faults;

/* NULL or "" gives no faults. Returns 0, or -1 with a message in err. */
int vp_faults_parse(vp_faults *f, const char *spec, char *err, size_t errlen);

/* What happens when command packet number `n` arrives. */
typedef struct vp_fault_actions {
	int unplug;        /* the probe is gone from now on */
	int reset;         /* reset the target now */
	uint64_t waits;    /* memory accesses to answer WAIT from now on (added) */
} vp_fault_actions;

vp_fault_actions vp_faults_on_command(const vp_faults *f, uint64_t n);

/* Program operation numbers to arm with vp_mcu_arm_powerloss, in order;
 * returns how many were written to out (at most max). */
size_t vp_faults_powerloss(const vp_faults *f, unsigned *out, size_t max);

#endif
