/*
 * Core debug and DBGMCU registers that several target files use. Sources:
 * ARMv7-M Architecture Reference Manual (DDI 0403E) C1.6.2 DHCSR (DBGKEY
 * 0xA05F in [31:16], C_DEBUGEN bit 0, C_HALT bit 1, S_HALT bit 17,
 * S_RESET_ST bit 25, sticky until DHCSR is read), C1.6.5 DEMCR
 * (VC_CORERESET bit 0), B3.2.3 CPUID, B3.2.6 AIRCR; RM0090 §38.16 DBGMCU
 * (same addresses on the F2, F4 and F7; stlink-org register.h).
 */
#ifndef STOTP_ARMV7M_REGS_H
#define STOTP_ARMV7M_REGS_H

#define CPUID              0xE000ED00u
#define DHCSR              0xE000EDF0u
#define DHCSR_DBGKEY_HALT  0xA05F0003u /* DBGKEY | C_HALT | C_DEBUGEN */
#define DHCSR_RUN          0xA05F0001u /* DBGKEY | C_DEBUGEN, C_HALT clear */
#define DHCSR_S_HALT       (1u << 17)
#define DHCSR_S_RESET_ST   (1u << 25)
#define DEMCR              0xE000EDFCu
#define DEMCR_VC_CORERESET (1u << 0)
#define DBGMCU_IDCODE      0xE0042000u

#endif
