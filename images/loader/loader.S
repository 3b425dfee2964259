/*
 * smss86's boot loader: the MBR's boot code and the stage it loads from the sectors after the MBR (the gap
 * before the partition at LBA 2048). It loads the kernel the way the Linux boot protocol (2.04 and later)
 * describes, from the sectors a boot map names: the disk builder (emulator/disk/image.ts) writes the map
 * into the last sector of the stage, with /boot/bzImage's first sector and length on the disk (the file
 * must be contiguous) and the kernel's command line, as LILO keeps a map instead of reading the file
 * system. The MBR, the stage and the kernel's real-mode part come through int 13h extended reads. The
 * protected-mode part (2.5 MB) goes straight to 1 MiB by bus-master DMA when the boot disk is the primary
 * master of a PIIX IDE controller (v86's, QEMU's PC): through the BIOS every 16-bit word of it is one
 * emulated port read, 0.1 s per boot. Elsewhere, or should DMA fail, int 13h reads into a bounce buffer and
 * int 15h AH=87h copies above 1 MiB. Messages go to COM1 (the console) and the screen; any failure prints
 * "smss86 loader: <why>" and halts.
 *
 * Memory: this code at 0x7C00 (MBR) and 0x7E00 (stage), the stack below 0x7C00, a 32 KiB bounce buffer at
 * 0x20000, the kernel's real-mode part at 0x90000 (heap up to 0x9DE00, command line at 0x9E000), its
 * protected-mode part at 0x100000.
 */
	.code16
	.text
	.globl	start

	.set	STAGE_SECTORS, 7		/* LBA 1..7: the stage, its last sector the map */
	.set	MAP, 0x7E00 + (STAGE_SECTORS - 1) * 512
	.set	REAL_MODE_SEGMENT, 0x9000
	.set	HEAP_END, 0xE000		/* from the real-mode part's start; the command line follows */
	.set	CMDLINE_MAX, 512 - 18 - 1	/* what the map's sector holds after its header, the NUL added here */
	.set	BOUNCE_SEGMENT, 0x2000
	.set	CHUNK_SECTORS, 64		/* 32 KiB per read and per copy */
	.set	COM1, 0x3F8
	.set	PIIX_IDE_DEVICE, 0x7010		/* Intel 82371SB PIIX3 IDE */
	.set	ATA_COUNT, 0x1F2		/* primary channel: sector count, LBA 0..2 at +1..+3 */
	.set	ATA_DRIVE, 0x1F6
	.set	ATA_STATUS, 0x1F7		/* status when read, command when written */
	.set	ATA_CONTROL, 0x3F6
	.set	STAGE_MAGIC, 0x3638534D		/* "MS86": the stage's first bytes */
	.set	MAP_MAGIC_LOW, 0x53534D53	/* "SMSS6MAP": the map's first bytes */
	.set	MAP_MAGIC_HIGH, 0x50414D36

/* ---- MBR (at most 440 bytes: the disk signature and the partition table follow) ---- */
start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7C00, %sp
	sti
	cld
	ljmp	$0, $mbr_main			/* some BIOSes enter at 07C0:0000 */
mbr_main:
	movb	%dl, boot_drive
	movw	$STAGE_SECTORS, dap_count
	movw	$0x7E00, dap_offset
	movw	$0, dap_segment
	movl	$1, dap_lba
	call	read_sectors
	jc	mbr_read_failed
	cmpl	$STAGE_MAGIC, stage_magic
	jne	mbr_no_stage
	jmp	stage_main
mbr_read_failed:
	movw	$msg_mbr_read, %si
	jmp	fail
mbr_no_stage:
	movw	$msg_no_stage, %si
	jmp	fail

/* read_sectors: the DAP's sectors into its buffer from boot_drive; CF on failure. */
read_sectors:
	movw	$dap, %si
	movb	boot_drive, %dl
	movb	$0x42, %ah
	int	$0x13
	ret

/* fail: prints "smss86 loader: " and the message at %si, then halts for good. */
fail:
	pushw	%si
	movw	$msg_prefix, %si
	call	print
	popw	%si
	call	print
	movw	$msg_newline, %si
	call	print
halt:
	hlt
	jmp	halt

/* print: the NUL-terminated string at %si to COM1 and to the screen. */
print:
	lodsb
	testb	%al, %al
	jz	print_done
	pushw	%ax
	movw	$COM1 + 5, %dx
wait_transmitter:
	inb	%dx, %al
	testb	$0x20, %al
	jz	wait_transmitter
	popw	%ax
	movw	$COM1, %dx
	outb	%al, %dx
	movb	$0x0E, %ah
	movw	$0x0007, %bx
	int	$0x10
	jmp	print
print_done:
	ret

	.balign	4
dap:
	.byte	0x10, 0
dap_count:
	.word	0
dap_offset:
	.word	0
dap_segment:
	.word	0
dap_lba:
	.long	0, 0
boot_drive:
	.byte	0x80

msg_prefix:
	.asciz	"smss86 loader: "
msg_newline:
	.asciz	"\r\n"
msg_mbr_read:
	.asciz	"cannot read the loader's sectors"
msg_no_stage:
	.asciz	"the loader's sectors after the MBR are missing"

	.org	440
mbr_end:

/* ---- the stage, loaded at 0x7E00 ---- */
	.org	512
stage_magic:
	.long	STAGE_MAGIC
stage_main:
	call	init_serial
	movw	$msg_banner, %si
	call	print

	cmpl	$MAP_MAGIC_LOW, MAP
	jne	no_map
	cmpl	$MAP_MAGIC_HIGH, MAP + 4
	jne	no_map

	/* The kernel's first two sectors: how long its real-mode part is, and its header. */
	movl	MAP + 8, %eax
	movl	%eax, next_lba
	movw	$2, dap_count
	movw	$0, dap_offset
	movw	$REAL_MODE_SEGMENT, dap_segment
	movl	%eax, dap_lba
	call	read_sectors
	jc	read_failed
	movw	$REAL_MODE_SEGMENT, %ax
	movw	%ax, %fs
	cmpl	$0x53726448, %fs:0x202		/* "HdrS" */
	jne	not_a_kernel
	cmpw	$0x0204, %fs:0x206		/* protocol 2.04: 32-bit syssize */
	jb	not_a_kernel
	testb	$0x01, %fs:0x211		/* LOADED_HIGH: the protected-mode part goes to 1 MiB */
	jz	not_a_kernel
	movzbl	%fs:0x1F1, %eax			/* setup_sects; 0 means 4 */
	testl	%eax, %eax
	jnz	1f
	movl	$4, %eax
1:	incl	%eax				/* the boot sector */
	movl	MAP + 12, %ecx
	cmpl	%eax, %ecx
	jbe	not_a_kernel
	subl	%eax, %ecx
	movl	%ecx, remaining

	/* The real-mode part, whole, at 0x90000 (at most 65 sectors: two reads). */
	movw	$0, dest_offset
real_mode_part:
	movl	%eax, %ecx
	cmpl	$CHUNK_SECTORS, %ecx
	jbe	1f
	movl	$CHUNK_SECTORS, %ecx
1:	movw	%cx, dap_count
	movw	dest_offset, %dx
	movw	%dx, dap_offset
	movw	$REAL_MODE_SEGMENT, dap_segment
	movl	next_lba, %edx
	movl	%edx, dap_lba
	pushl	%eax
	pushl	%ecx
	call	read_sectors
	popl	%ecx
	popl	%eax
	jc	read_failed
	addl	%ecx, next_lba
	shlw	$9, %cx
	addw	%cx, dest_offset
	shrw	$9, %cx
	subl	%ecx, %eax
	jnz	real_mode_part

	/* The protected-mode part, a chunk at a time, to 1 MiB and up. */
	movl	$0x100000, high_dest
	call	find_bus_master
protected_mode_part:
	movl	remaining, %ecx
	testl	%ecx, %ecx
	jz	loaded
	cmpl	$CHUNK_SECTORS, %ecx
	jbe	1f
	movl	$CHUNK_SECTORS, %ecx
1:	cmpw	$0, bus_master
	je	bios_chunk
	call	dma_chunk
	jnc	chunk_done
	movw	$0, bus_master			/* the BIOS reads the rest */
bios_chunk:
	movw	%cx, dap_count
	movw	$0, dap_offset
	movw	$BOUNCE_SEGMENT, dap_segment
	movl	next_lba, %edx
	movl	%edx, dap_lba
	pushl	%ecx
	call	read_sectors
	popl	%ecx
	jc	read_failed
	/* int 15h AH=87h: CX words from the source descriptor's base to the destination's. */
	movl	high_dest, %eax
	movw	%ax, gdt_dest_base_low
	shrl	$16, %eax
	movb	%al, gdt_dest_base_mid
	movb	%ah, gdt_dest_base_high
	pushl	%ecx
	shlw	$8, %cx				/* sectors * 256 words */
	pushw	%es
	xorw	%ax, %ax
	movw	%ax, %es
	movw	$copy_gdt, %si
	movb	$0x87, %ah
	int	$0x15
	popw	%es
	popl	%ecx
	jc	copy_failed
chunk_done:
	addl	%ecx, next_lba
	subl	%ecx, remaining
	shll	$9, %ecx
	addl	%ecx, high_dest
	jmp	protected_mode_part

loaded:
	/* The header fields a loader fills in (Documentation/x86/boot.rst). */
	movb	$0xFF, %fs:0x210		/* type_of_loader: not a registered one */
	orb	$0x80, %fs:0x211		/* loadflags: CAN_USE_HEAP */
	movw	$HEAP_END - 0x200, %fs:0x224	/* heap_end_ptr */
	movl	$(REAL_MODE_SEGMENT << 4) + HEAP_END, %fs:0x228	/* cmd_line_ptr */
	/* The command line from the map, NUL-terminated, after the heap. */
	movzwl	MAP + 16, %ecx
	cmpw	$CMDLINE_MAX, %cx
	ja	bad_map
	movw	$MAP + 18, %si
	pushw	%es
	movw	$REAL_MODE_SEGMENT, %ax
	movw	%ax, %es
	movw	$HEAP_END, %di
	rep	movsb
	movb	$0, %es:(%di)
	popw	%es

	/* Into the kernel's setup code, with its segments and its stack at the heap's end. */
	cli
	movw	$REAL_MODE_SEGMENT, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movw	$HEAP_END, %sp
	ljmp	$REAL_MODE_SEGMENT + 0x20, $0

no_map:
	movw	$msg_no_map, %si
	jmp	fail
bad_map:
	movw	$msg_bad_map, %si
	jmp	fail
read_failed:
	movw	$msg_read, %si
	jmp	fail
copy_failed:
	movw	$msg_copy, %si
	jmp	fail
not_a_kernel:
	movw	$msg_not_kernel, %si
	jmp	fail

/* find_bus_master: bus_master = the PIIX IDE controller's bus-master I/O base with bus mastering enabled, if
 * the boot drive is the first hard disk (the primary master) and the PCI BIOS finds the controller. */
find_bus_master:
	cmpb	$0x80, boot_drive
	jne	1f
	movw	$0xB102, %ax			/* PCI BIOS: find device 8086:7010 */
	movw	$PIIX_IDE_DEVICE, %cx
	movw	$0x8086, %dx
	xorw	%si, %si
	int	$0x1A
	jc	1f
	testb	%ah, %ah
	jnz	1f
	movw	%bx, pci_function
	movw	$0xB10A, %ax			/* read BAR4, the bus-master registers */
	movw	$0x20, %di
	int	$0x1A
	jc	1f
	testb	$0x01, %cl			/* an I/O port range */
	jz	1f
	andw	$0xFFFC, %cx
	jz	1f
	pushw	%cx
	movw	pci_function, %bx
	movw	$0xB109, %ax			/* read the command register */
	movw	$0x04, %di
	int	$0x1A
	jc	2f
	orw	$0x0004, %cx			/* bus master */
	movw	pci_function, %bx
	movw	$0xB10C, %ax
	movw	$0x04, %di
	int	$0x1A
	jc	2f
	popw	bus_master
	ret
2:	popw	%cx
1:	ret

/* dma_chunk: %ecx sectors (at most 64) from next_lba to high_dest by READ DMA EXT on the primary channel,
 * polling (device interrupts off); CF when the transfer fails. Keeps %ecx. */
dma_chunk:
	movl	high_dest, %eax
	movl	%eax, prd_address
	movw	%cx, %ax
	shlw	$9, %ax
	movw	%ax, prd_bytes
	movw	bus_master, %dx
	xorb	%al, %al
	outb	%al, %dx			/* stop */
	addw	$2, %dx
	movb	$0x06, %al
	outb	%al, %dx			/* clear the error and interrupt bits */
	addw	$2, %dx
	movl	$prd, %eax
	outl	%eax, %dx			/* the descriptor table */
	movl	$0x100000, %ebx
	movw	$ATA_STATUS, %dx
3:	inb	%dx, %al
	testb	$0x80, %al			/* BSY */
	jz	4f
	decl	%ebx
	jnz	3b
	jmp	dma_failed
4:	movw	$ATA_CONTROL, %dx
	movb	$0x02, %al			/* nIEN */
	outb	%al, %dx
	movw	$ATA_DRIVE, %dx
	movb	$0x40, %al			/* LBA, master */
	outb	%al, %dx
	movl	next_lba, %ebx
	movw	$ATA_COUNT, %dx
	xorb	%al, %al
	outb	%al, %dx			/* LBA48: the high halves first */
	incw	%dx
	movl	%ebx, %eax
	shrl	$24, %eax
	outb	%al, %dx
	incw	%dx
	xorb	%al, %al
	outb	%al, %dx
	incw	%dx
	outb	%al, %dx
	movw	$ATA_COUNT, %dx
	movb	%cl, %al
	outb	%al, %dx
	incw	%dx
	movb	%bl, %al
	outb	%al, %dx
	incw	%dx
	movb	%bh, %al
	outb	%al, %dx
	incw	%dx
	movl	%ebx, %eax
	shrl	$16, %eax
	outb	%al, %dx
	movw	$ATA_STATUS, %dx
	movb	$0x25, %al			/* READ DMA EXT */
	outb	%al, %dx
	movw	bus_master, %dx
	movb	$0x09, %al			/* start, towards memory */
	outb	%al, %dx
	addw	$2, %dx
	movl	$0x1000000, %ebx
5:	inb	%dx, %al
	testb	$0x02, %al			/* error */
	jnz	dma_failed
	testb	$0x01, %al			/* still active */
	jz	6f
	decl	%ebx
	jnz	5b
	jmp	dma_failed
6:	movw	bus_master, %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$ATA_STATUS, %dx
	inb	%dx, %al
	testb	$0x89, %al			/* BSY, DRQ or ERR */
	jnz	dma_failed
	clc
	ret
dma_failed:
	movw	bus_master, %dx
	xorb	%al, %al
	outb	%al, %dx
	stc
	ret

/* COM1 at 115200 baud, 8N1, FIFOs on. */
init_serial:
	movw	$COM1 + 1, %dx
	xorb	%al, %al
	outb	%al, %dx			/* no interrupts */
	movw	$COM1 + 3, %dx
	movb	$0x80, %al
	outb	%al, %dx			/* DLAB */
	movw	$COM1, %dx
	movb	$1, %al
	outb	%al, %dx			/* divisor 1: 115200 */
	movw	$COM1 + 1, %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$COM1 + 3, %dx
	movb	$0x03, %al
	outb	%al, %dx			/* 8N1 */
	movw	$COM1 + 2, %dx
	movb	$0xC7, %al
	outb	%al, %dx			/* FIFOs */
	movw	$COM1 + 4, %dx
	movb	$0x03, %al
	outb	%al, %dx			/* DTR, RTS */
	ret


	.balign	4
next_lba:
	.long	0
remaining:
	.long	0
high_dest:
	.long	0
dest_offset:
	.word	0
bus_master:
	.word	0
pci_function:
	.word	0

/* The bus-master descriptor table: one entry, the chunk's destination and length, the table's end. */
	.balign	4
prd:
prd_address:
	.long	0
prd_bytes:
	.word	0
	.word	0x8000

/* The descriptor table int 15h AH=87h copies with: the source is the bounce buffer. */
	.balign	8
copy_gdt:
	.quad	0, 0
	.word	0xFFFF				/* source: limit, base 0x020000, data */
	.word	0x0000
	.byte	0x02, 0x93, 0x00, 0x00
	.word	0xFFFF				/* destination: limit, base set per chunk */
gdt_dest_base_low:
	.word	0
gdt_dest_base_mid:
	.byte	0
	.byte	0x93, 0x00
gdt_dest_base_high:
	.byte	0
	.quad	0, 0

msg_banner:
	.asciz	"smss86 loader: loading the kernel\r\n"
msg_no_map:
	.asciz	"no boot map (the disk was not made by smss86's disk builder)"
msg_bad_map:
	.asciz	"the boot map's command line is too long"
msg_read:
	.asciz	"cannot read the kernel's sectors"
msg_copy:
	.asciz	"cannot copy the kernel above 1 MiB"
msg_not_kernel:
	.asciz	"the boot map does not point at a Linux kernel (boot protocol 2.04 or later)"

	.org	(STAGE_SECTORS - 1) * 512 + 512
stage_end:
